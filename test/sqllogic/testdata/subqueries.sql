# Subqueries in expressions (scalar, EXISTS, IN / ANY, ARRAY; correlated
# or not), UNION / INTERSECT / EXCEPT [ALL], and set-returning functions in
# FROM (generate_series, unnest).

statement ok
CREATE TABLE d (id INT PRIMARY KEY, name TEXT)

statement ok
CREATE TABLE e (id INT PRIMARY KEY, name TEXT, dept INT)

statement ok
INSERT INTO d VALUES (1, 'eng'), (2, 'ops'), (3, 'empty')

statement ok
INSERT INTO e VALUES (1, 'ann', 1), (2, 'bob', 1), (3, 'cat', 2), (4, 'dan', NULL)

query TI
SELECT d.name, (SELECT count(*) FROM e WHERE e.dept = d.id) FROM d ORDER BY d.id
----
eng    2
ops    1
empty  0

query TT
SELECT e.name, (SELECT d.name FROM d WHERE d.id = e.dept) FROM e ORDER BY e.id
----
ann  eng
bob  eng
cat  ops
dan  NULL

query I
SELECT (SELECT max(id) FROM e)
----
4

statement error 21000 more than one row returned by a subquery used as an expression
SELECT (SELECT id FROM e)

query T
SELECT name FROM d WHERE EXISTS (SELECT 1 FROM e WHERE e.dept = d.id) ORDER BY 1
----
eng
ops

query T
SELECT name FROM d WHERE NOT EXISTS (SELECT 1 FROM e WHERE e.dept = d.id)
----
empty

query T
SELECT name FROM e WHERE dept IN (SELECT id FROM d WHERE name <> 'eng')
----
cat

query T
SELECT name FROM d WHERE id NOT IN (SELECT dept FROM e WHERE dept IS NOT NULL)
----
empty

# NOT IN over a set with a NULL is never true.
query I
SELECT count(*) FROM d WHERE id NOT IN (SELECT dept FROM e)
----
0

query B
SELECT 2 = ANY (SELECT dept FROM e)
----
t

query T
SELECT ARRAY(SELECT name FROM e WHERE dept = 1 ORDER BY name DESC)
----
{bob,ann}

query I
SELECT id FROM d UNION SELECT dept FROM e WHERE dept IS NOT NULL ORDER BY 1
----
1
2
3

query I
SELECT dept FROM e UNION ALL SELECT id FROM d ORDER BY 1 NULLS FIRST
----
NULL
1
1
1
2
2
3

query I
SELECT id FROM d INTERSECT SELECT dept FROM e ORDER BY 1
----
1
2

query I
SELECT dept FROM e INTERSECT ALL SELECT 1 ORDER BY 1
----
1

query I
SELECT id FROM d EXCEPT SELECT dept FROM e
----
3

query I
SELECT dept FROM e EXCEPT ALL SELECT 1 ORDER BY 1
----
1
2
NULL

query T
SELECT name FROM d UNION SELECT 'x' ORDER BY name LIMIT 2
----
empty
eng

statement error 42601 each UNION query must have the same number of columns
SELECT 1 UNION SELECT 1, 2

query I
SELECT * FROM generate_series(1, 3)
----
1
2
3

query I
SELECT s FROM generate_series(10, 1, -4) AS s
----
10
6
2

query IT
SELECT g.x, e.name FROM generate_series(1, 2) AS g (x) JOIN e ON e.id = g.x ORDER BY 1
----
1  ann
2  bob

query T rowsort
SELECT * FROM unnest(ARRAY['a', 'b'])
----
a
b

query TI
SELECT * FROM unnest(ARRAY['a', 'b']) WITH ORDINALITY AS u (v, n) ORDER BY n
----
a  1
b  2

# A set-returning function alone in a SELECT list without FROM.
query I
SELECT generate_series(1, 3)
----
1
2
3

query T rowsort
SELECT unnest(ARRAY['x', 'y']) AS u
----
x
y

# pg_partition_ancestors: no rows for a table that is no partition.
query I
SELECT count(*) FROM pg_partition_ancestors('e')
----
0

# Correlated subqueries over an aggregation read the grouped columns.
query III
SELECT e.dept, count(*), (SELECT count(*) FROM d WHERE d.id = e.dept) FROM e GROUP BY e.dept ORDER BY 1
----
1     2  1
2     1  1
NULL  1  0

query TT
SELECT d.name, (SELECT max(e.name) FROM e WHERE e.dept = d.id) FROM d JOIN e ON e.id = d.id ORDER BY 1
----
empty  NULL
eng    bob
ops    cat

statement error 42803 column "e.name" must appear in the GROUP BY clause or be used in an aggregate function
SELECT e.dept, (SELECT count(*) FROM d WHERE d.name = e.name) FROM e GROUP BY e.dept

query T
SELECT name FROM d WHERE 'ann' IN (SELECT e.name FROM e WHERE e.dept = d.id)
----
eng

# A subquery inside a subquery reads both enclosing queries.
query TI
SELECT d.name, (SELECT count(*) FROM e WHERE e.dept = d.id AND EXISTS (SELECT 1 FROM d AS d2 WHERE d2.id = e.dept AND d2.name = d.name)) FROM d ORDER BY d.id
----
eng    2
ops    1
empty  0

statement ok
UPDATE d SET name = (SELECT max(e.name) FROM e WHERE e.dept = d.id) WHERE id IN (SELECT dept FROM e)

query T
SELECT name FROM d ORDER BY id
----
bob
cat
empty

statement count 1
DELETE FROM d WHERE NOT EXISTS (SELECT 1 FROM e WHERE e.dept = d.id)

query IBT colnames
SELECT (SELECT count(*) FROM e), EXISTS (SELECT 1), ARRAY(SELECT 'a')
----
count  exists  array
4      t       {a}

query R
SELECT 1 UNION SELECT 2.5 ORDER BY 1
----
1
2.5

statement error 42804 UNION types integer and text cannot be matched
SELECT 1 UNION SELECT 'a'::text

query T
SELECT NULL UNION SELECT 'x' ORDER BY 1
----
x
NULL

# d holds ids 1 and 2 here.
query II
SELECT e.id, (SELECT sum(d.id + e.id) FROM d) FROM e WHERE e.id <= 2 ORDER BY 1
----
1  5
2  7

# x op ALL / ANY / SOME (subquery), with PostgreSQL's NULL semantics.
statement ok
CREATE TABLE nums (k INT PRIMARY KEY, v INT)

statement ok
INSERT INTO nums VALUES (1, 10), (2, 20), (3, 30), (4, NULL)

query BBBBBB
SELECT 30 >= ALL (SELECT v FROM nums WHERE v IS NOT NULL), 20 >= ALL (SELECT v FROM nums WHERE v IS NOT NULL), 5 < ALL (SELECT v FROM nums WHERE v IS NOT NULL), 10 <= ALL (SELECT v FROM nums WHERE k < 4), 10 > ALL (SELECT v FROM nums WHERE k < 4), 40 <> ALL (SELECT v FROM nums WHERE k < 4)
----
t  f  t  t  f  t

# A NULL among the rows: ALL is NULL unless a row compares false.
query BBB
SELECT 30 >= ALL (SELECT v FROM nums), 20 >= ALL (SELECT v FROM nums), 10 = ALL (SELECT v FROM nums)
----
NULL  f  f

# ALL over no rows is true, ANY over no rows false, even for a NULL.
query BBBB
SELECT 1 = ALL (SELECT v FROM nums WHERE false), NULL::int = ALL (SELECT v FROM nums WHERE false), 1 = ANY (SELECT v FROM nums WHERE false), NULL::int = ANY (SELECT v FROM nums WHERE false)
----
t  t  f  f

query BBBBBB
SELECT 20 = ANY (SELECT v FROM nums), 25 = ANY (SELECT v FROM nums), 25 < ANY (SELECT v FROM nums), 5 > SOME (SELECT v FROM nums), 10 <> ANY (SELECT v FROM nums WHERE v = 10), 10 >= SOME (SELECT v FROM nums)
----
t  NULL  t  NULL  f  t

query I
SELECT k FROM nums WHERE v >= ALL (SELECT v FROM nums WHERE v IS NOT NULL)
----
3

query I
SELECT k FROM nums WHERE v < ALL (SELECT v FROM nums AS n2 WHERE n2.k > nums.k) ORDER BY k
----
4

query I
SELECT k FROM nums WHERE v > ANY (SELECT v FROM nums AS n2 WHERE n2.k <> nums.k) ORDER BY k
----
2
3

query B
SELECT 'b' > ALL (SELECT name FROM e WHERE name < 'b')
----
t

statement error 42601 subquery has too many columns
SELECT 1 = ALL (SELECT 1, 2)

statement error 42601 subquery has too many columns
SELECT 1 IN (SELECT 1, 2)

statement error 42883 operator does not exist: integer = text
SELECT 1 = ALL (SELECT 'a'::text)

# Row constructors compared with rows.
query BB
SELECT (2, 1) > (1, 5), (1, 2) = (1, 2)
----
t  t

query BBBBBB
SELECT (1, 2) = (1, 2), (1, 2) <> (1, 3), (1, 2) < (1, 3), (2, 1) > (1, 5), (1, 2) <= (1, 2), (1, 2, 3) >= (1, 2, 4)
----
t  t  t  t  t  f

query BBBBBB
SELECT (1, NULL) = (2, 3), (1, NULL) = (1, 3), (1, NULL) <> (2, 3), (1, NULL) < (2, 3), (NULL, 1) < (2, 3), (1, NULL) < (1, 3)
----
f  NULL  t  t  NULL  NULL

query BB
SELECT ROW(1, 'a') = ROW(1, 'a'), ROW(1, NULL) IS NOT DISTINCT FROM ROW(1, NULL)
----
t  t

query BB
SELECT (1, NULL) IS DISTINCT FROM (1, NULL), (1, 2) IS DISTINCT FROM (1, NULL)
----
f  t

query II rowsort
SELECT k, v FROM nums WHERE (k, v) IN ((1, 10), (2, 99), (3, 30))
----
1  10
3  30

query II rowsort
SELECT k, v FROM nums WHERE (k, v) NOT IN ((1, 10), (2, 99))
----
2  20
3  30
4  NULL

query II
SELECT k, v FROM nums WHERE (k, v) > (2, 15) ORDER BY k
----
2  20
3  30
4  NULL

statement error 42601 unequal number of entries in row expressions
SELECT (1, 2) = (1, 2, 3)

query BBBBBB
SELECT (1, NULL) IS NULL, (NULL, NULL) IS NULL, (1, NULL) IS NOT NULL, (1, 2) IS NOT NULL, NOT (1, NULL) IS NULL, ROW(NULL) IS NULL
----
f  t  f  t  t  t

query BBB
SELECT (1, 2) = ANY (SELECT 1, 2 UNION ALL SELECT NULL::int, NULL::int), (1, 2) < ALL (SELECT 1, 3 UNION ALL SELECT 2, NULL::int), (1, 2) IN (SELECT 1, 2.0)
----
t  t  t

statement error 42883 operator does not exist: integer = text
SELECT (1, 2) = (SELECT 1, '2')

query I
SELECT 1 WHERE ('1', 'a') IN (SELECT 1, 'a'::text)
----
1

query B
SELECT 'abc' LIKE ALL (SELECT 'a%' UNION SELECT '%c')
----
t

statement error 22P02 invalid input syntax for type integer: "a"
SELECT (1, 2) < (1, 'a')

# Row subqueries: (a, b) op (SELECT x, y), (a, b) IN (SELECT x, y).
query T
SELECT name FROM e WHERE (id, dept) = (SELECT 3, 2)
----
cat

query T rowsort
SELECT name FROM e WHERE (id, dept) IN (SELECT id, dept FROM e WHERE dept = 1)
----
ann
bob

query T rowsort
SELECT name FROM e WHERE (dept, name) NOT IN (SELECT 1, 'ann' UNION ALL SELECT 2, 'cat')
----
bob
dan

# A NULL makes NOT IN unknown for the rows it could match.
query T rowsort
SELECT name FROM e WHERE (dept, name) NOT IN (SELECT NULL::int, 'ann')
----
bob
cat
dan

query BBB
SELECT (1, 2) = (SELECT 1, 2), (1, 2) < (SELECT 1, 3), (1, 2) = (SELECT 1, 2 WHERE false)
----
t  t  NULL

query BB
SELECT (1, 2) = ANY (SELECT k, v / 10 FROM nums), (3, 3) = ALL (SELECT k, v / 10 FROM nums WHERE k = 3)
----
f  t

query TI
SELECT d.name, (SELECT count(*) FROM e WHERE (e.dept, e.id) > (d.id, 1)) FROM d ORDER BY d.id
----
bob  2
cat  1

statement error 42601 subquery has too few columns
SELECT (1, 2) = (SELECT 1)

statement error 42601 subquery has too many columns
SELECT (1, 2) = (SELECT 1, 2, 3)

statement error 42601 subquery has too many columns
SELECT (1, 2) IN (SELECT 1, 2, 3)

statement error 42601 subquery has too few columns
SELECT (1, 2) IN (SELECT 1)

statement error 42601 subquery must return only one column
SELECT 1 = (SELECT 1, 2)

statement error 21000 more than one row returned by a subquery used as an expression
SELECT (1, 2) = (SELECT 1, 2 UNION ALL SELECT 3, 4)

statement error 21000 more than one row returned by a subquery used as an expression
SELECT k FROM nums WHERE v = (SELECT v FROM nums)

# A subquery that reads no column of the enclosing query runs once per
# statement, as in PostgreSQL: every row sees the same rows.
query I
SELECT count(DISTINCT r) FROM (SELECT (SELECT random()) AS r FROM generate_series(1, 5)) AS s
----
1

statement ok
CREATE TABLE upd (id INT PRIMARY KEY, v INT)

statement ok
INSERT INTO upd VALUES (1, 1), (2, 2), (3, 3)

statement count 3
UPDATE upd SET v = (SELECT max(v) FROM upd) + id

query II
SELECT id, v FROM upd ORDER BY id
----
1  4
2  5
3  6

# A subquery over a CTE that depends on the outer row is not cached.
query II
SELECT k, (WITH c AS (SELECT nums.v AS w) SELECT (SELECT max(w) FROM c)) FROM nums ORDER BY k
----
1  10
2  20
3  30
4  NULL

query II
SELECT k, (WITH c AS MATERIALIZED (SELECT nums.v AS w) SELECT (SELECT max(w) FROM c) + (SELECT min(w) FROM c)) FROM nums ORDER BY k
----
1  20
2  40
3  60
4  NULL

query TB
SELECT name, id IN (SELECT dept FROM e WHERE dept IS NOT NULL) FROM d ORDER BY id
----
bob  t
cat  t
