# Joins and multi-table FROM: FROM lists, [INNER] JOIN ... ON, LEFT/RIGHT/
# FULL [OUTER] JOIN, CROSS JOIN, USING, NATURAL, aliases, qualified names
# and * expansion, subqueries in FROM, and joins under aggregation,
# DISTINCT, ORDER BY and LIMIT.

statement ok
CREATE TABLE dept (id INT PRIMARY KEY, name TEXT, floor INT)

statement ok
INSERT INTO dept VALUES (1, 'eng', 3), (2, 'ops', 1), (3, 'sales', 2), (4, 'empty', NULL)

statement ok
CREATE TABLE emp (id INT PRIMARY KEY, name TEXT, dept_id INT, salary INT, boss INT)

statement ok
INSERT INTO emp VALUES
  (1, 'ann', 1, 120, NULL),
  (2, 'bob', 1, 100, 1),
  (3, 'cat', 2, 90, 1),
  (4, 'dan', NULL, 90, 2),
  (5, 'eve', 2, NULL, 3),
  (6, 'fay', 9, 70, 3)

statement ok
CREATE TABLE proj (emp_id INT, dept_id INT, title TEXT, PRIMARY KEY (emp_id, title))

statement ok
INSERT INTO proj VALUES (1, 1, 'db'), (1, 1, 'net'), (2, 1, 'db'), (3, 2, 'ops'), (7, 3, 'ghost')

# A FROM list is a cross join; WHERE joins it.
query TT rowsort
SELECT e.name, d.name FROM emp e, dept d WHERE e.dept_id = d.id
----
ann  eng
bob  eng
cat  ops
eve  ops

query I
SELECT count(*) FROM emp, dept
----
24

query TT rowsort
SELECT emp.name, dept.name FROM emp, dept WHERE emp.dept_id = dept.id AND dept.floor > 1
----
ann  eng
bob  eng

# [INNER] JOIN ... ON.
query ITT rowsort
SELECT e.id, e.name, d.name FROM emp e JOIN dept d ON e.dept_id = d.id
----
1  ann  eng
2  bob  eng
3  cat  ops
5  eve  ops

query ITT rowsort
SELECT e.id, e.name, d.name FROM emp AS e INNER JOIN dept AS d ON d.id = e.dept_id
----
1  ann  eng
2  bob  eng
3  cat  ops
5  eve  ops

# Non-equality join conditions and extra conjuncts.
query TT rowsort
SELECT e.name, d.name FROM emp e JOIN dept d ON e.dept_id = d.id AND e.salary > 95
----
ann  eng
bob  eng

query TT rowsort
SELECT e.name, d.name FROM emp e JOIN dept d ON e.dept_id < d.id AND d.floor = 2
----
ann  sales
bob  sales
cat  sales
eve  sales

query TT rowsort
SELECT a.name, b.name FROM emp a JOIN emp b ON a.salary > b.salary + 25
----
ann  cat
ann  dan
ann  fay
bob  fay

# LEFT JOIN: unmatched left rows get NULLs.
query TT rowsort
SELECT e.name, d.name FROM emp e LEFT JOIN dept d ON e.dept_id = d.id
----
ann  eng
bob  eng
cat  ops
dan  NULL
eve  ops
fay  NULL

query TT rowsort
SELECT e.name, d.name FROM emp e LEFT OUTER JOIN dept d ON e.dept_id = d.id AND d.floor > 1
----
ann  eng
bob  eng
cat  NULL
dan  NULL
eve  NULL
fay  NULL

# An ON condition over the left side only does not drop left rows.
query TT rowsort
SELECT e.name, d.name FROM emp e LEFT JOIN dept d ON e.dept_id = d.id AND e.salary >= 100
----
ann  eng
bob  eng
cat  NULL
dan  NULL
eve  NULL
fay  NULL

# WHERE over the nullable side is applied after the join.
query TT rowsort
SELECT e.name, d.name FROM emp e LEFT JOIN dept d ON e.dept_id = d.id WHERE d.name IS NULL
----
dan  NULL
fay  NULL

query TT rowsort
SELECT e.name, d.name FROM emp e LEFT JOIN dept d ON e.dept_id = d.id WHERE d.floor > 1 OR d.floor IS NULL
----
ann  eng
bob  eng
dan  NULL
fay  NULL

# RIGHT JOIN: unmatched right rows get NULLs.
query TT rowsort
SELECT e.name, d.name FROM emp e RIGHT JOIN dept d ON e.dept_id = d.id
----
NULL  empty
NULL  sales
ann   eng
bob   eng
cat   ops
eve   ops

query TT rowsort
SELECT e.name, d.name FROM emp e RIGHT OUTER JOIN dept d ON e.dept_id = d.id AND e.salary > 95
----
NULL  empty
NULL  ops
NULL  sales
ann   eng
bob   eng

# FULL JOIN: both.
query TT rowsort
SELECT e.name, d.name FROM emp e FULL JOIN dept d ON e.dept_id = d.id
----
NULL  empty
NULL  sales
ann   eng
bob   eng
cat   ops
dan   NULL
eve   ops
fay   NULL

query TT rowsort
SELECT e.name, d.name FROM emp e FULL OUTER JOIN dept d ON e.dept_id = d.id AND e.salary < 100
----
NULL  empty
NULL  eng
NULL  sales
ann   NULL
bob   NULL
cat   ops
dan   NULL
eve   NULL
fay   NULL

# Outer joins without an equality: nested loops.
query TT rowsort
SELECT e.name, d.name FROM emp e LEFT JOIN dept d ON e.dept_id > d.id AND d.id > 1
----
ann  NULL
bob  NULL
cat  NULL
dan  NULL
eve  NULL
fay  empty
fay  ops
fay  sales

query TT rowsort
SELECT e.name, d.name FROM emp e FULL JOIN dept d ON e.salary = d.floor * 40
----
NULL  empty
NULL  ops
NULL  sales
ann   eng
bob   NULL
cat   NULL
dan   NULL
eve   NULL
fay   NULL

query TT rowsort
SELECT e.name, d.name FROM emp e RIGHT JOIN dept d ON false
----
NULL  empty
NULL  eng
NULL  ops
NULL  sales

# CROSS JOIN.
query TT rowsort
SELECT d.name, p.title FROM dept d CROSS JOIN proj p WHERE d.id = 1
----
eng  db
eng  db
eng  ghost
eng  net
eng  ops

query I
SELECT count(*) FROM dept CROSS JOIN emp CROSS JOIN proj
----
120

# Several joins.
query TTT rowsort
SELECT e.name, d.name, p.title FROM emp e JOIN dept d ON e.dept_id = d.id JOIN proj p ON p.emp_id = e.id
----
ann  eng  db
ann  eng  net
bob  eng  db
cat  ops  ops

query TTT rowsort
SELECT e.name, d.name, p.title FROM emp e LEFT JOIN dept d ON e.dept_id = d.id LEFT JOIN proj p ON p.emp_id = e.id
----
ann  eng   db
ann  eng   net
bob  eng   db
cat  ops   ops
dan  NULL  NULL
eve  ops   NULL
fay  NULL  NULL

query TTT rowsort
SELECT e.name, d.name, p.title FROM proj p FULL JOIN emp e ON p.emp_id = e.id LEFT JOIN dept d ON e.dept_id = d.id
----
NULL  NULL  ghost
ann   eng   db
ann   eng   net
bob   eng   db
cat   ops   ops
dan   NULL  NULL
eve   ops   NULL
fay   NULL  NULL

query TT rowsort
SELECT e.name, b.name FROM emp e JOIN emp b ON e.boss = b.id JOIN dept d ON d.id = b.dept_id WHERE d.name = 'eng'
----
bob  ann
cat  ann
dan  bob

# Parenthesized joins.
query TTT rowsort
SELECT e.name, d.name, p.title FROM emp e LEFT JOIN (dept d JOIN proj p ON p.dept_id = d.id) ON e.dept_id = d.id
----
ann  eng   db
ann  eng   db
ann  eng   net
bob  eng   db
bob  eng   db
bob  eng   net
cat  ops   ops
dan  NULL  NULL
eve  ops   ops
fay  NULL  NULL

# Self-join.
query TT rowsort
SELECT w.name, b.name FROM emp w LEFT JOIN emp b ON w.boss = b.id
----
ann  NULL
bob  ann
cat  ann
dan  bob
eve  cat
fay  cat

# Multi-column join keys.
query TTT rowsort
SELECT e.name, p.title, d.name FROM proj p JOIN emp e ON p.emp_id = e.id AND p.dept_id = e.dept_id JOIN dept d ON d.id = p.dept_id
----
ann  db   eng
ann  net  eng
bob  db   eng
cat  ops  ops

# Join keys of different integer types, and expressions as keys.
statement ok
CREATE TABLE big (k BIGINT PRIMARY KEY, v TEXT)

statement ok
INSERT INTO big VALUES (1, 'one'), (2, 'two'), (4294967296, 'huge')

query TT rowsort
SELECT d.name, b.v FROM dept d JOIN big b ON d.id = b.k
----
eng  one
ops  two

query TT rowsort
SELECT d.name, b.v FROM dept d JOIN big b ON d.id * 2 = b.k
----
eng  two

# NULL keys never match.
statement ok
CREATE TABLE n1 (id INT PRIMARY KEY, k INT)

statement ok
CREATE TABLE n2 (id INT PRIMARY KEY, k INT)

statement ok
INSERT INTO n1 VALUES (1, 1), (2, NULL), (3, 3)

statement ok
INSERT INTO n2 VALUES (10, 1), (20, NULL), (30, NULL)

query II rowsort
SELECT n1.id, n2.id FROM n1 JOIN n2 ON n1.k = n2.k
----
1  10

query II rowsort
SELECT n1.id, n2.id FROM n1 FULL JOIN n2 ON n1.k = n2.k
----
1     10
2     NULL
3     NULL
NULL  20
NULL  30

query II rowsort
SELECT n1.id, n2.id FROM n1 JOIN n2 ON n1.k IS NOT DISTINCT FROM n2.k
----
1  10
2  20
2  30

# USING: the column appears once, first.
query TIITIIIIII colnames rowsort
SELECT * FROM proj JOIN dept ON proj.dept_id = dept.id JOIN emp USING (name) WHERE false
----
name  emp_id  dept_id  title  id  floor  id  dept_id  salary  boss

query ITIIIIT colnames rowsort
SELECT * FROM dept d1 JOIN dept d2 USING (id, name) JOIN proj p ON p.dept_id = id WHERE p.title = 'db'
----
id  name  floor  floor  emp_id  dept_id  title
1   eng   3      3      1       1        db
1   eng   3      3      2       1        db

statement ok
CREATE TABLE a (id INT PRIMARY KEY, x TEXT)

statement ok
CREATE TABLE b (id INT PRIMARY KEY, y TEXT)

statement ok
INSERT INTO a VALUES (1, 'a1'), (2, 'a2'), (3, 'a3')

statement ok
INSERT INTO b VALUES (2, 'b2'), (3, 'b3'), (4, 'b4')

query ITT colnames rowsort
SELECT * FROM a JOIN b USING (id)
----
id  x   y
2   a2  b2
3   a3  b3

query ITT colnames rowsort
SELECT * FROM a LEFT JOIN b USING (id)
----
id  x   y
1   a1  NULL
2   a2  b2
3   a3  b3

query ITT colnames rowsort
SELECT * FROM a RIGHT JOIN b USING (id)
----
id  x     y
2   a2    b2
3   a3    b3
4   NULL  b4

query ITT colnames rowsort
SELECT * FROM a FULL JOIN b USING (id)
----
id  x     y
1   a1    NULL
2   a2    b2
3   a3    b3
4   NULL  b4

query IIITT colnames rowsort
SELECT id, a.id, b.id, x, y FROM a FULL JOIN b USING (id)
----
id  id    id    x     y
1   1     NULL  a1    NULL
2   2     2     a2    b2
3   3     3     a3    b3
4   NULL  4     NULL  b4

query IT rowsort
SELECT id, x FROM a FULL JOIN b USING (id) WHERE id > 2
----
3  a3
4  NULL

query ITIT colnames rowsort
SELECT a.*, b.* FROM a LEFT JOIN b USING (id)
----
id  x   id    y
1   a1  NULL  NULL
2   a2  2     b2
3   a3  3     b3

query ITT colnames rowsort
SELECT * FROM a NATURAL JOIN b
----
id  x   y
2   a2  b2
3   a3  b3

query ITT colnames rowsort
SELECT * FROM a NATURAL FULL JOIN b
----
id  x     y
1   a1    NULL
2   a2    b2
3   a3    b3
4   NULL  b4

# NATURAL JOIN without common columns is a cross join.
query I
SELECT count(*) FROM a NATURAL JOIN proj
----
15

# USING over columns of different types: the common type.
query IT colnames rowsort
SELECT id, v FROM a JOIN (SELECT k AS id, v FROM big) s USING (id)
----
id  v
1   one
2   two

query IT rowsort
SELECT id, v FROM a FULL JOIN (SELECT k AS id, v FROM big) s USING (id)
----
1           one
2           two
3           NULL
4294967296  huge

# * and t.* expansion, table aliases and column aliases.
query ITIIIITI colnames rowsort
SELECT * FROM emp e JOIN dept d ON e.dept_id = d.id WHERE e.id = 1
----
id  name  dept_id  salary  boss  id  name  floor
1   ann   1        120     NULL  1   eng   3

query ITII colnames rowsort
SELECT d.*, e.id FROM emp e JOIN dept d ON e.dept_id = d.id WHERE e.id < 3
----
id  name  floor  id
1   eng   3      1
1   eng   3      2

query ITI colnames
SELECT * FROM dept AS d (i, n) WHERE i = 2
----
i  n    floor
2  ops  1

query IT colnames rowsort
SELECT x.i, y.n FROM dept AS x (i) JOIN dept AS y (j, n) ON x.i = y.j WHERE x.i < 3
----
i  n
1  eng
2  ops

# Unqualified names resolve when they are unique.
query TI rowsort
SELECT title, floor FROM proj JOIN dept ON dept_id = id
----
db     3
db     3
ghost  2
net    3
ops    1

# Aggregation over joins.
query TII rowsort
SELECT d.name, count(e.id), sum(e.salary) FROM dept d LEFT JOIN emp e ON e.dept_id = d.id GROUP BY d.name
----
empty  0  NULL
eng    2  220
ops    2  90
sales  0  NULL

query TI
SELECT d.name, count(*) FROM emp e JOIN dept d ON e.dept_id = d.id GROUP BY d.id, d.name HAVING count(*) > 1 ORDER BY d.name
----
eng  2
ops  2

# A column of a table whose primary key is grouped may be used.
query ITI rowsort
SELECT d.id, d.name, count(p.title) FROM dept d LEFT JOIN proj p ON p.dept_id = d.id GROUP BY d.id
----
1  eng    3
2  ops    1
3  sales  1
4  empty  0

query I
SELECT count(*) FROM emp e JOIN emp b ON e.boss = b.id
----
5

# DISTINCT, ORDER BY and LIMIT over joins.
query T
SELECT DISTINCT d.name FROM emp e JOIN dept d ON e.dept_id = d.id ORDER BY d.name
----
eng
ops

query TT
SELECT e.name, d.name FROM emp e LEFT JOIN dept d ON e.dept_id = d.id ORDER BY d.name NULLS FIRST, e.name LIMIT 4
----
dan  NULL
fay  NULL
ann  eng
bob  eng

query TT
SELECT e.name, d.name FROM emp e JOIN dept d ON e.dept_id = d.id ORDER BY e.salary DESC NULLS LAST, 1 OFFSET 1 LIMIT 2
----
bob  eng
cat  ops

query TT
SELECT DISTINCT ON (d.id) d.name, e.name FROM dept d JOIN emp e ON e.dept_id = d.id ORDER BY d.id, e.salary DESC
----
eng  ann
ops  eve

# Point lookups through a join keep their result.
query TT
SELECT e.name, d.name FROM emp e JOIN dept d ON e.dept_id = d.id WHERE e.id = 2
----
bob  eng

query TT
SELECT e.name, d.name FROM emp e JOIN dept d ON e.dept_id = d.id WHERE d.id = 2 AND e.id = 5
----
eve  ops

# Subqueries in FROM.
query TI rowsort
SELECT s.name, s.total FROM (SELECT d.name, sum(e.salary) AS total FROM dept d JOIN emp e ON e.dept_id = d.id GROUP BY d.name) AS s
----
eng  220
ops  90

query IT rowsort
SELECT * FROM (SELECT id, name FROM emp WHERE salary > 95) hi
----
1  ann
2  bob

query TT rowsort
SELECT hi.name, d.name FROM (SELECT name, dept_id FROM emp ORDER BY salary DESC LIMIT 2) hi JOIN dept d ON d.id = hi.dept_id
----
ann  eng
eve  ops

query II colnames
SELECT * FROM (SELECT 1, 2) AS s (a, b)
----
a  b
1  2

query I
SELECT count(*) FROM (SELECT DISTINCT dept_id FROM emp) s
----
4

# INSERT ... SELECT over a join.
statement ok
CREATE TABLE pairs (e TEXT, d TEXT)

statement count 4
INSERT INTO pairs SELECT e.name, d.name FROM emp e JOIN dept d ON e.dept_id = d.id

query TT rowsort
SELECT * FROM pairs
----
ann  eng
bob  eng
cat  ops
eve  ops

# Parameters-free expressions in ON: constants.
query I
SELECT count(*) FROM a JOIN b ON true
----
9

query IT rowsort
SELECT a.id, b.y FROM a LEFT JOIN b ON a.id = b.id AND 1 = 0
----
1  NULL
2  NULL
3  NULL

# Errors.
statement error 42702 column reference "id" is ambiguous
SELECT id FROM emp, dept

statement error 42702 column reference "name" is ambiguous
SELECT e.id FROM emp e JOIN dept d ON name = 'eng'

statement error 42P01 missing FROM-clause entry for table "x"
SELECT x.id FROM emp, dept

statement error 42P01 invalid reference to FROM-clause entry for table "emp"
SELECT emp.id FROM emp e, dept

statement error 42703 column e.nope does not exist
SELECT e.nope FROM emp e, dept

statement error 42703 column "nope" does not exist
SELECT nope FROM emp e, dept

statement error 42712 table name "emp" specified more than once
SELECT 1 FROM emp, emp

statement error 42712 table name "x" specified more than once
SELECT 1 FROM emp x JOIN dept x ON true

statement error 42P01 missing FROM-clause entry for table "z"
SELECT z.* FROM emp

statement error 42P01 invalid reference to FROM-clause entry for table "e"
SELECT 1 FROM emp e, dept d JOIN proj p ON e.id = p.emp_id

statement error 42703 column "nope" specified in USING clause does not exist in left table
SELECT 1 FROM a JOIN b USING (nope)

statement error 42703 column "x" specified in USING clause does not exist in right table
SELECT 1 FROM a JOIN b USING (x)

statement error 42701 column name "id" appears more than once in USING clause
SELECT 1 FROM a JOIN b USING (id, id)

statement error 42702 common column name "id" appears more than once in left table
SELECT 1 FROM (a JOIN b ON true) JOIN a AS c USING (id)

statement error 42804 argument of JOIN/ON must be type boolean, not type integer
SELECT 1 FROM a JOIN b ON 1

statement error 42601 subquery in FROM must have an alias
SELECT * FROM (SELECT 1)

statement error 42803 column "e.name" must appear in the GROUP BY clause or be used in an aggregate function
SELECT e.name, count(*) FROM emp e JOIN dept d ON e.dept_id = d.id GROUP BY d.id

statement error 42P10 table "d" has 3 columns available but 4 columns specified
SELECT * FROM dept AS d (a, b, c, e)

onlyif cairn
statement error 0A000
SELECT * FROM a, LATERAL (SELECT a.id) s

onlyif cairn
statement error 0A000
SELECT * FROM (a JOIN b USING (id)) AS j

# Pushdown and derived equalities keep outer join semantics.
query ITIT rowsort
SELECT * FROM a LEFT JOIN b ON a.id = b.id WHERE a.id = 1
----
1  a1  NULL  NULL

query ITIT rowsort
SELECT * FROM a LEFT JOIN b ON a.id = b.id AND b.id = 3
----
1  a1  NULL  NULL
2  a2  NULL  NULL
3  a3  3     b3

query ITIT rowsort
SELECT * FROM a LEFT JOIN b ON a.id = b.id AND a.id = 3
----
1  a1  NULL  NULL
2  a2  NULL  NULL
3  a3  3     b3

query ITIT rowsort
SELECT * FROM a RIGHT JOIN b ON a.id = b.id WHERE b.id = 4
----
NULL  NULL  4  b4

query ITIT rowsort
SELECT * FROM a RIGHT JOIN b ON a.id = b.id WHERE a.id = 2
----
2  a2  2  b2

query ITIT rowsort
SELECT * FROM a FULL JOIN b ON a.id = b.id WHERE a.x = 'a2' OR b.y = 'b4'
----
2     a2    2  b2
NULL  NULL  4  b4

query ITIT rowsort
SELECT * FROM a FULL JOIN b ON a.id = b.id AND a.id = 2
----
1     a1    NULL  NULL
2     a2    2     b2
3     a3    NULL  NULL
NULL  NULL  3     b3
NULL  NULL  4     b4

query ITIT rowsort
SELECT * FROM a LEFT JOIN b ON a.id = b.id WHERE b.id IS NULL OR b.y = 'b3'
----
1  a1  NULL  NULL
3  a3  3     b3

query ITT rowsort
SELECT a.id, a.x, d.name FROM (a LEFT JOIN b ON a.id = b.id) JOIN dept d ON d.id = b.id WHERE d.floor < 3
----
2  a2  ops
3  a3  sales

query ITT rowsort
SELECT a.id, a.x, d.name FROM a LEFT JOIN (b JOIN dept d ON d.id = b.id) ON a.id = b.id
----
1  a1  NULL
2  a2  ops
3  a3  sales

query ITT rowsort
SELECT a.id, b.y, p.title FROM a JOIN b ON a.id = b.id LEFT JOIN proj p ON p.emp_id = a.id
----
2  b2  db
3  b3  ops

# Keys of equal value but different representation match.
statement ok
CREATE TABLE nk (n NUMERIC PRIMARY KEY, s VARCHAR(10))

statement ok
CREATE TABLE nk2 (n NUMERIC(6,2) PRIMARY KEY, s TEXT)

statement ok
INSERT INTO nk VALUES (1.0, 'x'), (2.5, 'y'), (3, 'z')

statement ok
INSERT INTO nk2 VALUES (1, 'x'), (2.50, 'q'), (4, 'z')

query RR rowsort
SELECT nk.n, nk2.n FROM nk JOIN nk2 ON nk.n = nk2.n
----
1.0  1.00
2.5  2.50

query TT rowsort
SELECT nk.s, nk2.s FROM nk JOIN nk2 ON nk.s = nk2.s
----
x  x
z  z

query RT colnames rowsort
SELECT * FROM nk JOIN nk2 USING (n, s)
----
n    s
1.0  x

query RTT colnames rowsort
SELECT * FROM nk FULL JOIN nk2 USING (n)
----
n     s     s
1.0   x     x
2.5   y     q
3     z     NULL
4.00  NULL  z

# ORDER BY and GROUP BY over joins.
query II
SELECT a.id, b.id FROM a JOIN b ON a.id < b.id ORDER BY a.id DESC, b.id
----
3  4
2  3
2  4
1  2
1  3
1  4

statement error 42702 ORDER BY "id" is ambiguous
SELECT a.id, b.id FROM a JOIN b ON true ORDER BY id

query II rowsort
SELECT id, count(*) FROM a FULL JOIN b USING (id) GROUP BY id
----
1  1
2  1
3  1
4  1

query TI
SELECT coalesce(b.y, 'none'), count(*) FROM a LEFT JOIN b ON a.id = b.id GROUP BY 1 ORDER BY 1
----
b2    1
b3    1
none  1

query I
SELECT count(*) FROM a JOIN b ON a.id = b.id WHERE a.id > 100
----
0

query I
SELECT sum(a.id * b.id) FROM a, b
----
54
