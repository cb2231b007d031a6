# SELECT on one table: WHERE, ORDER BY (ASC/DESC, NULLS FIRST/LAST),
# LIMIT/OFFSET, expressions, and SELECT without FROM.

statement ok
CREATE TABLE p (id INT PRIMARY KEY, name TEXT, dept TEXT, salary INT, bonus NUMERIC(6,2), active BOOL)

statement ok
INSERT INTO p VALUES
  (1, 'ann', 'eng', 120, 10.5, true),
  (2, 'bob', 'eng', 100, NULL, true),
  (3, 'cat', 'ops', 90, 5, false),
  (4, 'dan', NULL, 90, 0, true),
  (5, 'eve', 'ops', NULL, NULL, NULL),
  (6, 'fay', 'sales', 70, 7.25, false)

query ITTIRB
SELECT * FROM p ORDER BY id
----
1  ann  eng    120   10.50  t
2  bob  eng    100   NULL   t
3  cat  ops    90    5.00   f
4  dan  NULL   90    0.00   t
5  eve  ops    NULL  NULL   NULL
6  fay  sales  70    7.25   f

query T rowsort
SELECT name FROM p
----
ann
bob
cat
dan
eve
fay

# Projections: expressions, aliases, column names.
query TI colnames
SELECT name AS who, salary * 2 FROM p WHERE id = 1
----
who  ?column?
ann  240

query ITB colnames
SELECT id + 1 AS next, upper(name), salary > 95 FROM p WHERE id <= 3 ORDER BY id
----
next  upper  ?column?
2     ANN    t
3     BOB    t
4     CAT    f

query IIT colnames
SELECT 1, 1 + 1 AS two, 'x'
----
?column?  two  ?column?
1         2    x

# WHERE: comparisons, AND/OR/NOT, IN, BETWEEN, IS [NOT] NULL, IS [NOT] DISTINCT FROM.
query T
SELECT name FROM p WHERE salary > 90 ORDER BY name
----
ann
bob

query T
SELECT name FROM p WHERE salary >= 90 AND dept = 'eng' ORDER BY name
----
ann
bob

query T
SELECT name FROM p WHERE dept = 'ops' OR salary < 80 ORDER BY name
----
cat
eve
fay

query T
SELECT name FROM p WHERE NOT active ORDER BY name
----
cat
fay

query T
SELECT name FROM p WHERE active IS NOT TRUE ORDER BY name
----
cat
eve
fay

query T
SELECT name FROM p WHERE id IN (2, 4, 6, 8) ORDER BY name
----
bob
dan
fay

query T
SELECT name FROM p WHERE id NOT IN (2, 4, 6) ORDER BY name
----
ann
cat
eve

query T
SELECT name FROM p WHERE salary BETWEEN 80 AND 100 ORDER BY name
----
bob
cat
dan

query T
SELECT name FROM p WHERE salary NOT BETWEEN 80 AND 100 ORDER BY name
----
ann
fay

query T
SELECT name FROM p WHERE dept IS NULL
----
dan

query T
SELECT name FROM p WHERE bonus IS NOT NULL ORDER BY name
----
ann
cat
dan
fay

query T
SELECT name FROM p WHERE dept IS DISTINCT FROM 'eng' ORDER BY name
----
cat
dan
eve
fay

query T
SELECT name FROM p WHERE dept IS NOT DISTINCT FROM NULL
----
dan

query T
SELECT name FROM p WHERE dept = NULL
----

query T
SELECT name FROM p WHERE name LIKE '_a%' ORDER BY name
----
cat
dan
fay

query T
SELECT name FROM p WHERE id = 3
----
cat

query T
SELECT name FROM p WHERE id > 2 AND id < 5 ORDER BY id
----
cat
dan

query T
SELECT name FROM p WHERE false
----

query T
SELECT name FROM p WHERE NULL
----

statement error 42804
SELECT name FROM p WHERE salary

statement error 42703
SELECT name FROM p WHERE nope = 1

# ORDER BY: direction, NULLS FIRST/LAST, several keys, expressions,
# ordinals and output aliases.
query TI
SELECT name, salary FROM p ORDER BY salary, name
----
fay  70
cat  90
dan  90
bob  100
ann  120
eve  NULL

query TI
SELECT name, salary FROM p ORDER BY salary DESC, name
----
eve  NULL
ann  120
bob  100
cat  90
dan  90
fay  70

query TI
SELECT name, salary FROM p ORDER BY salary NULLS FIRST, name
----
eve  NULL
fay  70
cat  90
dan  90
bob  100
ann  120

query TI
SELECT name, salary FROM p ORDER BY salary DESC NULLS LAST, name DESC
----
ann  120
bob  100
dan  90
cat  90
fay  70
eve  NULL

query TT
SELECT name, dept FROM p ORDER BY dept ASC NULLS FIRST, name DESC
----
dan  NULL
bob  eng
ann  eng
eve  ops
cat  ops
fay  sales

query TR
SELECT name, bonus FROM p ORDER BY bonus DESC NULLS FIRST, id
----
bob  NULL
eve  NULL
ann  10.50
fay  7.25
cat  5.00
dan  0.00

query TI
SELECT name, salary FROM p ORDER BY 2 DESC, 1
----
eve  NULL
ann  120
bob  100
cat  90
dan  90
fay  70

query TI
SELECT name, salary % 7 AS m FROM p WHERE salary IS NOT NULL ORDER BY m, name
----
fay  0
ann  1
bob  2
cat  6
dan  6

query T
SELECT name FROM p ORDER BY length(name) * -1, id DESC
----
fay
eve
dan
cat
bob
ann

query T
SELECT name FROM p ORDER BY active, name
----
cat
fay
ann
bob
dan
eve

statement error 42P10
SELECT name FROM p ORDER BY 3

# LIMIT and OFFSET.
query I
SELECT id FROM p ORDER BY id LIMIT 2
----
1
2

query I
SELECT id FROM p ORDER BY id LIMIT 2 OFFSET 3
----
4
5

query I
SELECT id FROM p ORDER BY id OFFSET 4
----
5
6

query I
SELECT id FROM p ORDER BY id LIMIT 0
----

query I
SELECT id FROM p ORDER BY id DESC LIMIT 100 OFFSET 5
----
1

query I
SELECT id FROM p ORDER BY id LIMIT ALL
----
1
2
3
4
5
6

query I
SELECT id FROM p ORDER BY id LIMIT NULL
----
1
2
3
4
5
6

query I
SELECT id FROM p ORDER BY id FETCH FIRST 3 ROWS ONLY
----
1
2
3

query I
SELECT id FROM p ORDER BY salary DESC NULLS LAST, id LIMIT 1
----
1

statement error 2201W
SELECT id FROM p LIMIT -1

statement error 2201X
SELECT id FROM p OFFSET -1

# Expressions in projections.
query ITI
SELECT id, name || '@' || coalesce(dept, '?'), coalesce(salary, 0) + 1 FROM p ORDER BY id
----
1  ann@eng    121
2  bob@eng    101
3  cat@ops    91
4  dan@?      91
5  eve@ops    1
6  fay@sales  71

query IR
SELECT id, salary + bonus FROM p ORDER BY id
----
1  130.50
2  NULL
3  95.00
4  90.00
5  NULL
6  77.25

query IB
SELECT id, salary > 80 AND active FROM p ORDER BY id
----
1  t
2  t
3  f
4  t
5  NULL
6  f

query IB
SELECT id, salary > 80 OR active FROM p ORDER BY id
----
1  t
2  t
3  t
4  t
5  NULL
6  f

query IT
SELECT id, CASE WHEN salary >= 100 THEN 'high' WHEN salary >= 80 THEN 'mid' ELSE 'low' END FROM p ORDER BY id
----
1  high
2  high
3  mid
4  mid
5  low
6  low

# Qualified column names and table aliases.
query IT
SELECT x.id, x.name FROM p AS x WHERE x.id = 1
----
1  ann

query IT
SELECT p.id, p.name FROM p WHERE p.id = 2
----
2  bob

statement error 42P01
SELECT q.id FROM p

statement error 42P01
SELECT p.id FROM p AS x

query ITTIRB
SELECT p.* FROM p WHERE id = 6
----
6  fay  sales  70  7.25  f

# SELECT without FROM.
query I
SELECT 1
----
1

query T colnames
SELECT 'hello' AS greeting
----
greeting
hello

query IRB
SELECT 2 + 3 * 4, 7.0 / 2, 1 < 2
----
14  3.5000000000000000  t

query T colnames
SELECT NULL
----
?column?
NULL

query II
SELECT 10 / 3, -7 / 2
----
3  -3

query II
SELECT 10 % 3, -7 % 2
----
1  -1

query RR
SELECT 10 / 4.0, 2 ^ 10
----
2.5000000000000000  1024

query I
SELECT 1 WHERE false
----

query I
SELECT 1 WHERE true
----
1

query IIII
SELECT (1 + 2) * 3, 1 + 2 * 3, -(-4), @ -5
----
9  7  4  5

query BBB
SELECT true AND NULL, false AND NULL, true OR NULL
----
NULL  f  t

query BBBB
SELECT NULL = NULL, NULL IS NULL, 1 IS DISTINCT FROM NULL, NOT NULL
----
NULL  t  t  NULL

# More filters and orderings.
query T
SELECT name FROM p WHERE salary * 2 > 190 ORDER BY name
----
ann
bob

query T
SELECT name FROM p WHERE name IN ('ann', 'bob', 'zed') ORDER BY name DESC
----
bob
ann

query T
SELECT name FROM p WHERE id = 1 OR id = 3 ORDER BY id DESC
----
cat
ann

query I
SELECT id FROM p ORDER BY id LIMIT 1 + 1
----
1
2

query I
SELECT -id FROM p ORDER BY 1 LIMIT 2
----
-6
-5

query T
SELECT name FROM p ORDER BY salary DESC NULLS LAST, id
----
ann
bob
cat
dan
fay
eve

query T
SELECT name FROM p WHERE name ILIKE 'A%'
----
ann

query TR
SELECT name, bonus FROM p WHERE bonus > 5.5 ORDER BY bonus
----
fay  7.25
ann  10.50

query T
SELECT name FROM p WHERE active ORDER BY id
----
ann
bob
dan

query IB
SELECT id, active IS UNKNOWN FROM p ORDER BY id
----
1  f
2  f
3  f
4  f
5  t
6  f

query I
SELECT id FROM p WHERE id >= 5 ORDER BY id
----
5
6

query I
SELECT id FROM p WHERE id < 0
----

query I
SELECT id FROM p WHERE id = 3 AND name = 'x'
----

query I
SELECT id FROM p WHERE id <> 3 AND id != 4 ORDER BY id
----
1
2
5
6

query I
SELECT id FROM p WHERE id BETWEEN 2 AND 4 AND salary IS NOT NULL ORDER BY id DESC
----
4
3
2

query T
SELECT name FROM p WHERE coalesce(dept, 'none') = 'none'
----
dan

query T
SELECT upper(name) FROM p ORDER BY upper(name) DESC LIMIT 3
----
FAY
EVE
DAN

query TI
SELECT dept, id FROM p ORDER BY dept NULLS FIRST, id DESC
----
NULL   4
eng    2
eng    1
ops    5
ops    3
sales  6

query TI
SELECT dept, id FROM p ORDER BY dept DESC, id
----
NULL   4
sales  6
ops    3
ops    5
eng    1
eng    2

# Keys of other types, scanned in key order.
statement ok
CREATE TABLE tk (k TEXT PRIMARY KEY, v INT)

statement ok
INSERT INTO tk VALUES ('b', 2), ('a', 1), ('', 0), ('ab', 3), ('B', 4)

query TI
SELECT k, v FROM tk ORDER BY k
----
·   0
B   4
a   1
ab  3
b   2

query TI
SELECT k, v FROM tk WHERE k > 'a' ORDER BY k DESC
----
b   2
ab  3

query TI
SELECT k, v FROM tk WHERE k LIKE 'a%' ORDER BY k
----
a   1
ab  3

statement ok
CREATE TABLE fk (k FLOAT8 PRIMARY KEY)

statement ok
INSERT INTO fk VALUES (1.5), (-0.5), ('Infinity'), ('-Infinity'), (0), ('NaN')

query R
SELECT k FROM fk ORDER BY k
----
-Infinity
-0.5
0
1.5
Infinity
NaN

query R
SELECT k FROM fk WHERE k > 0 ORDER BY k DESC
----
NaN
Infinity
1.5

statement ok
CREATE TABLE nk (a INT, b TEXT, PRIMARY KEY (b, a))

statement ok
INSERT INTO nk VALUES (2, 'x'), (1, 'y'), (1, 'x'), (-1, 'x')

query IT
SELECT a, b FROM nk WHERE b = 'x' ORDER BY a DESC
----
2   x
1   x
-1  x

query IT
SELECT a, b FROM nk WHERE b = 'x' AND a > 0 ORDER BY a
----
1  x
2  x

# A NULL or untyped literal in a set operation's input takes the column's
# type from the other input.
query I
SELECT 1 UNION ALL SELECT NULL ORDER BY 1
----
1
NULL

query I
SELECT NULL UNION SELECT 2 ORDER BY 1
----
2
NULL

query T
SELECT pg_typeof(x)::text FROM (SELECT NULL AS x UNION SELECT NULL) s
----
text

query I
SELECT 1 UNION SELECT '7' ORDER BY 1
----
1
7

statement error 22P02
SELECT 1 UNION SELECT 'x'
