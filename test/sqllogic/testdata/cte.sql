# Common table expressions: WITH [RECURSIVE] on SELECT (at any level) and on
# INSERT / UPDATE / DELETE; column lists, shadowing, [NOT] MATERIALIZED,
# CTEs referenced several times, recursion (UNION and UNION ALL) and its
# errors.

statement ok
CREATE TABLE emp (id INT PRIMARY KEY, name TEXT, boss INT, salary INT)

statement ok
INSERT INTO emp VALUES (1, 'root', NULL, 100), (2, 'ann', 1, 80), (3, 'bob', 1, 70), (4, 'cat', 2, 50), (5, 'dan', 4, 40), (6, 'eve', 3, 60)

query I
WITH x AS (SELECT 1 AS a) SELECT a FROM x
----
1

query IT colnames
WITH x(a, b) AS (SELECT id, name FROM emp WHERE id < 3) SELECT * FROM x ORDER BY a
----
a  b
1  root
2  ann

# A column list shorter than the query's columns renames the first ones.
query IT colnames
WITH x(a) AS (SELECT id, name FROM emp WHERE id = 2) SELECT * FROM x
----
a  name
2  ann

statement error 42P10 WITH query "x" has 2 columns available but 3 columns specified
WITH x(a, b, c) AS (SELECT 1, 2) SELECT * FROM x

statement error 42712 WITH query name "x" specified more than once
WITH x AS (SELECT 1), x AS (SELECT 2) SELECT * FROM x

# Several CTEs, a later one reading an earlier one.
query IT
WITH rich AS (SELECT id, name FROM emp WHERE salary >= 70), richer AS (SELECT * FROM rich WHERE id > 1) SELECT id, name FROM richer ORDER BY id
----
2  ann
3  bob

# A CTE referenced several times (materialized once).
query IIT
WITH s AS (SELECT id, name, boss FROM emp) SELECT a.id, b.id, b.name FROM s AS a JOIN s AS b ON b.boss = a.id WHERE a.id <= 2 ORDER BY 1, 2
----
1  2  ann
1  3  bob
2  4  cat

query II
WITH c AS (SELECT count(*) AS n FROM emp) SELECT (SELECT n FROM c), (SELECT n + 1 FROM c)
----
6  7

query I
WITH c AS MATERIALIZED (SELECT id FROM emp WHERE id % 2 = 0) SELECT sum(id) FROM c
----
12

query I
WITH c AS NOT MATERIALIZED (SELECT id FROM emp WHERE id % 2 = 1) SELECT count(*) FROM c AS a, c AS b
----
9

# A CTE name shadows a table of the same name; a qualified name does not.
query T
WITH emp AS (SELECT 'shadow' AS name) SELECT name FROM emp
----
shadow

query I
WITH emp AS (SELECT 'shadow' AS name) SELECT count(*) FROM public.emp
----
6

# An inner WITH shadows an outer one.
query I
WITH x AS (SELECT 1 AS v) SELECT (WITH x AS (SELECT 2 AS v) SELECT v FROM x) + v FROM x
----
3

# CTEs in subqueries, correlated with the outer query.
query TI
SELECT name, (WITH sub AS (SELECT id FROM emp AS e2 WHERE e2.boss = emp.id) SELECT count(*) FROM sub) FROM emp ORDER BY id
----
root  2
ann   1
bob   1
cat   1
dan   0
eve   0

query T
SELECT name FROM emp WHERE id IN (WITH b AS (SELECT boss FROM emp) SELECT boss FROM b) ORDER BY 1
----
ann
bob
cat
root

query I
SELECT * FROM (WITH x AS (SELECT 5 AS v) SELECT v FROM x) AS s
----
5

# WITH with a set operation, ORDER BY and LIMIT.
query I
WITH a AS (SELECT id FROM emp WHERE id < 3), b AS (SELECT id FROM emp WHERE id > 4) SELECT id FROM a UNION ALL SELECT id FROM b ORDER BY id DESC LIMIT 3
----
6
5
2

query TI
WITH t AS (SELECT boss, count(*) AS n FROM emp GROUP BY boss) SELECT e.name, t.n FROM t JOIN emp AS e ON e.id = t.boss ORDER BY e.id
----
root  2
ann   1
bob   1
cat   1

query I
WITH x AS (SELECT id FROM emp) SELECT id FROM x WHERE id > 2 ORDER BY id LIMIT 2
----
3
4

# An unused CTE is still checked, but not run.
statement error 42P01 relation "nope" does not exist
WITH x AS (SELECT * FROM nope) SELECT 1

query I
WITH x AS (SELECT 1 / 0) SELECT 2
----
2

# A CTE is not visible to the CTEs before it (without RECURSIVE).
statement error 42P01 relation "b" does not exist
WITH a AS (SELECT * FROM b), b AS (SELECT 1 AS v) SELECT * FROM a

query I
WITH RECURSIVE a AS (SELECT * FROM b), b AS (SELECT 1 AS v) SELECT * FROM a
----
1

statement error 0A000 mutual recursion between WITH items is not implemented
WITH RECURSIVE a AS (SELECT * FROM b), b AS (SELECT * FROM a) SELECT * FROM a

# WITH on INSERT, UPDATE and DELETE.
statement ok
CREATE TABLE log (id INT PRIMARY KEY, note TEXT)

statement count 2
WITH src AS (SELECT id, name FROM emp WHERE salary < 55) INSERT INTO log SELECT id, name FROM src

statement count 1
INSERT INTO log WITH s AS (SELECT 100 AS id, 'x' AS note) SELECT * FROM s

statement count 2
WITH big AS (SELECT id FROM emp WHERE salary >= 80) UPDATE log SET note = note || '!' WHERE id IN (SELECT id + 3 FROM big)

statement count 1
WITH gone AS (SELECT 100 AS id) DELETE FROM log WHERE id IN (SELECT id FROM gone)

query IT
SELECT id, note FROM log ORDER BY id
----
4  cat!
5  dan!

# Data-modifying statements in WITH are not supported yet (PostgreSQL runs them).
onlyif cairn
statement error 0A000 data-modifying statements in WITH
WITH d AS (DELETE FROM log RETURNING id) SELECT * FROM d

# WITH RECURSIVE: counting.
query I
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 5) SELECT n FROM t
----
1
2
3
4
5

query II
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 100) SELECT count(*), sum(n) FROM t
----
100  5050

# An endless recursion read with a LIMIT stops.
query I
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT n FROM t LIMIT 3
----
1
2
3

# A tree walk.
query ITI
WITH RECURSIVE sub(id, name, depth) AS (SELECT id, name, 0 FROM emp WHERE id = 2 UNION ALL SELECT e.id, e.name, s.depth + 1 FROM emp AS e JOIN sub AS s ON e.boss = s.id) SELECT id, name, depth FROM sub ORDER BY depth, id
----
2  ann  0
4  cat  1
5  dan  2

query TT
WITH RECURSIVE chain AS (SELECT id, boss, name::text AS path FROM emp WHERE boss IS NULL UNION ALL SELECT e.id, e.boss, c.path || '/' || e.name FROM emp AS e, chain AS c WHERE e.boss = c.id) SELECT name, path FROM chain JOIN emp USING (id) ORDER BY path
----
root  root
ann   root/ann
cat   root/ann/cat
dan   root/ann/cat/dan
bob   root/bob
eve   root/bob/eve

# Ancestors of one node, upwards.
query T
WITH RECURSIVE up(id) AS (SELECT boss FROM emp WHERE id = 5 UNION SELECT emp.boss FROM emp JOIN up ON emp.id = up.id WHERE emp.boss IS NOT NULL) SELECT string_agg(id::text, ',' ORDER BY id) FROM up
----
1,2,4

# UNION stops when no new rows appear (a cycle); UNION ALL would not.
query I
WITH RECURSIVE t(n) AS (SELECT 0 UNION SELECT (n + 1) % 4 FROM t) SELECT n FROM t ORDER BY n
----
0
1
2
3

# Fibonacci, several columns.
query II
WITH RECURSIVE fib(a, b) AS (SELECT 0::bigint, 1::bigint UNION ALL SELECT b, a + b FROM fib WHERE b < 50) SELECT a, b FROM fib ORDER BY a DESC LIMIT 3
----
34  55
21  34
13  21

# The recursive CTE referenced twice in the query.
query II
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) SELECT a.n, b.n FROM t AS a JOIN t AS b ON b.n = a.n + 1 ORDER BY 1
----
1  2
2  3

# The non-recursive term's type is the column's; the recursive term's
# values convert to it.
query TI
WITH RECURSIVE t(n) AS (SELECT 1::bigint UNION ALL SELECT n + 1 FROM t WHERE n < 2) SELECT pg_typeof(n)::text, n FROM t
----
bigint  1
bigint  2

query T
WITH RECURSIVE t(s) AS (SELECT 'a' UNION ALL SELECT s || 'b' FROM t WHERE length(s) < 3) SELECT s FROM t
----
a
ab
abb

statement error 42804 recursive query "t" column 1 has type integer in non-recursive term but type bigint overall
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1::bigint FROM t WHERE n < 3) SELECT * FROM t

statement error 42P19 recursive reference to query "t" must not appear within its non-recursive term
WITH RECURSIVE t(n) AS (SELECT n FROM t UNION ALL SELECT 1) SELECT * FROM t

statement error 42P19 recursive query "t" does not have the form non-recursive-term UNION \[ALL\] recursive-term
WITH RECURSIVE t(n) AS (SELECT 1 FROM t) SELECT * FROM t

statement error 42P19 recursive reference to query "t" must not appear more than once
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT t.n + 1 FROM t, t AS u WHERE t.n < 3) SELECT * FROM t

statement error 42P19 recursive reference to query "t" must not appear within a subquery
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < (SELECT max(n) FROM t)) SELECT * FROM t

statement error 42P19 recursive reference to query "t" must not appear within an outer join
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT t.n + 1 FROM (SELECT 1 AS x) AS s LEFT JOIN t ON true WHERE t.n < 3) SELECT * FROM t

statement error 42P19 aggregate functions are not allowed in a recursive query's recursive term
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT count(*) FROM t) SELECT * FROM t

statement error 0A000 ORDER BY in a recursive query is not implemented
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3 ORDER BY 1) SELECT * FROM t

statement error 0A000 LIMIT in a recursive query is not implemented
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3 LIMIT 2) SELECT * FROM t

# WITH RECURSIVE without a self-reference is an ordinary CTE.
query I
WITH RECURSIVE x AS (SELECT 7 AS v) SELECT v FROM x
----
7

# A recursive CTE inside a subquery.
query TI
SELECT name, (WITH RECURSIVE d(id) AS (SELECT emp.id UNION ALL SELECT e.id FROM emp AS e JOIN d ON e.boss = d.id) SELECT count(*) - 1 FROM d) FROM emp ORDER BY id
----
root  5
ann   2
bob   1
cat   1
dan   0
eve   0

# An endless recursion fails instead of running forever.
onlyif cairn
statement error 54001 recursive query "t" did not finish after
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT 1 FROM t WHERE false IS NOT TRUE) SELECT count(*) FROM t

# EXPLAIN
onlyif cairn
query T
EXPLAIN WITH c AS MATERIALIZED (SELECT id FROM emp) SELECT * FROM c
----
project c.id
  -> cte c (materialized)
    -> project id
      -> full scan of emp@emp_pkey
  -> subquery c
    -> cte scan c (materialized)

onlyif cairn
query T
EXPLAIN WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 5) SELECT n FROM t
----
project n
  -> subquery t
    -> recursive union all t
      -> project 1
        -> one row (no FROM)
      -> project (n + 1)
        -> filter (n < 5)
          -> subquery t
            -> working table scan t

# A volatile CTE referenced once is still evaluated once.
query B
WITH r AS (SELECT random() AS v) SELECT count(DISTINCT w) = 1 FROM (SELECT (SELECT v FROM r) AS w FROM generate_series(1, 5)) AS s
----
t

statement ok
CREATE SEQUENCE cte_seq

query I
WITH s AS (SELECT nextval('cte_seq') AS v) SELECT max(w) FROM (SELECT (SELECT v FROM s) AS w FROM generate_series(1, 3)) AS q
----
1

# A CTE's NULL and untyped literals are text.
query TT
WITH x AS (SELECT NULL AS a, 'lit' AS b) SELECT pg_typeof(a)::text, pg_typeof(b)::text FROM x
----
text  text

# Aggregates and DISTINCT over a CTE, and a CTE in a join with a table.
query II
WITH b AS (SELECT boss FROM emp WHERE boss IS NOT NULL) SELECT count(DISTINCT boss), count(*) FROM b
----
4  5

query TT
WITH bosses AS (SELECT DISTINCT boss AS id FROM emp) SELECT emp.name, CASE WHEN bosses.id IS NULL THEN 'no' ELSE 'yes' END FROM emp LEFT JOIN bosses USING (id) ORDER BY emp.id
----
root  yes
ann   yes
bob   yes
cat   yes
dan   no
eve   no

# A CTE in NOT EXISTS, with a column alias at the reference.
query T
WITH b(x) AS (SELECT boss FROM emp WHERE boss IS NOT NULL) SELECT name FROM emp WHERE NOT EXISTS (SELECT 1 FROM b AS bb(y) WHERE bb.y = emp.id) ORDER BY name
----
dan
eve

statement error 42703 column x.b does not exist
WITH x AS (SELECT 1 AS a) SELECT x.b FROM x

statement error 42P01 missing FROM-clause entry for table "nope"
WITH x AS (SELECT 1 AS a) SELECT nope.a FROM x

# A WITH inside the recursive term reads the working table.
query I
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL (WITH w AS (SELECT n FROM t) SELECT w.n + 1 FROM w, w AS w2 WHERE w.n < 3)) SELECT n FROM t
----
1
2
3

query I
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM (SELECT n FROM t) AS s WHERE n < 3) SELECT n FROM t
----
1
2
3

statement error 42804 recursive query "t" column 1 has type integer in non-recursive term but type numeric overall
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 0.5 FROM t WHERE n < 3) SELECT n FROM t

query T
WITH RECURSIVE t(n) AS (SELECT NULL UNION ALL SELECT 'x' FROM t WHERE n IS NULL) SELECT n FROM t
----
NULL
x

# A CTE whose query has ORDER BY and LIMIT, read twice.
query ITT rowsort
WITH x AS (SELECT id, name FROM emp ORDER BY id DESC LIMIT 2) SELECT x.*, y.name FROM x, x AS y WHERE x.id = y.id
----
5  dan  dan
6  eve  eve

onlyif cairn
query T
EXPLAIN WITH a AS (SELECT id FROM emp WHERE salary > 50) SELECT * FROM a JOIN emp USING (id)
----
project id, emp.name, emp.boss, emp.salary
  -> hash join (inner) on (a.id = emp.id)
    -> subquery a
      -> project id
        -> filter (salary > 50)
          -> full scan of emp@emp_pkey
    -> full scan of emp@emp_pkey

onlyif cairn
query T
EXPLAIN WITH RECURSIVE sub(id) AS (SELECT 2 UNION SELECT e.id FROM emp AS e JOIN sub AS s ON e.boss = s.id) SELECT * FROM sub AS a, sub AS b
----
project a.id, b.id
  -> cte sub (materialized)
    -> recursive union sub
      -> project 2
        -> one row (no FROM)
      -> project e.id
        -> hash join (inner) on (e.boss = s.id)
          -> full scan of emp@emp_pkey
          -> subquery s
            -> working table scan sub
  -> nested loop join (cross)
    -> subquery a
      -> cte scan sub (materialized)
    -> subquery b
      -> cte scan sub (materialized)

# VALUES as a query: alone, in FROM, and as a CTE's query.
query IT colnames
VALUES (1, 'a'), (2, 'b')
----
column1  column2
1        a
2        b

query IT
SELECT * FROM (VALUES (1, 'one'), (2, 'two'), (3, NULL)) AS v (id, name) WHERE id > 1 ORDER BY id
----
2  two
3  NULL

query IT
WITH v(id, name) AS (VALUES (2, 'x'), (1, 'y')) SELECT id, name FROM v ORDER BY id
----
1  y
2  x

query R
VALUES (1), (2.5), (NULL) ORDER BY 1 DESC LIMIT 2
----
NULL
2.5

query TT
SELECT pg_typeof(column1)::text, pg_typeof(column2)::text FROM (VALUES (1, NULL), (2::bigint, 'a')) AS v
----
bigint  text
bigint  text

query I
VALUES (3), (1), (2) ORDER BY column1 OFFSET 1
----
2
3

query IT
WITH RECURSIVE t(n, s) AS (VALUES (1, 'a') UNION ALL SELECT n + 1, s || 'a' FROM t WHERE n < 3) SELECT * FROM t
----
1  a
2  aa
3  aaa

query TI
SELECT e.name, v.bonus FROM emp AS e JOIN (VALUES (2, 10), (3, 20)) AS v (id, bonus) ON v.id = e.id ORDER BY 1
----
ann  10
bob  20

query I
SELECT count(*) FROM emp WHERE (id, boss) IN (VALUES (2, 1), (4, 2), (5, 5))
----
2

statement error 42601 VALUES lists must all be the same length
VALUES (1, 2), (3)

statement error 42804 VALUES types integer and text cannot be matched
VALUES (1), ('a'::text)

statement error 42601 DEFAULT is not allowed in this context
VALUES (DEFAULT)

onlyif cairn
query T
EXPLAIN SELECT * FROM (VALUES (1), (2)) AS v (x) ORDER BY x DESC
----
sort (in memory) by v.x DESC
  -> project v.x
    -> subquery v
      -> project column1
        -> values (2 rows)
