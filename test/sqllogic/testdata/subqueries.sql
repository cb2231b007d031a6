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
