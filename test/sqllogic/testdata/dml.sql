# DML: INSERT (VALUES, DEFAULT, RETURNING, ON CONFLICT DO NOTHING,
# INSERT ... SELECT), UPDATE and DELETE with RETURNING.

statement ok
CREATE TABLE t (id INT PRIMARY KEY, name TEXT NOT NULL, qty INT DEFAULT 0, price NUMERIC(8,2))

statement count 1
INSERT INTO t VALUES (1, 'apple', 10, 1.25)

statement count 3
INSERT INTO t (id, name, price) VALUES (2, 'banana', 0.5), (3, 'cherry', 12), (4, 'date', NULL)

# Column order of the list need not be the table's.
statement count 1
INSERT INTO t (price, name, id) VALUES (3.999, 'elder', 5)

statement ok
INSERT INTO t VALUES (6, 'fig', DEFAULT, DEFAULT)

statement ok
INSERT INTO t (id, name) VALUES (7, 'grape')

query ITIR
SELECT * FROM t ORDER BY id
----
1  apple   10  1.25
2  banana  0   0.50
3  cherry  0   12.00
4  date    0   NULL
5  elder   0   4.00
6  fig     0   NULL
7  grape   0   NULL

# Too many or too few values.
statement error 42601
INSERT INTO t (id, name) VALUES (8, 'x', 3)

statement error 42601
INSERT INTO t (id, name, qty) VALUES (8, 'x')

statement error 42703
INSERT INTO t (id, nope) VALUES (8, 'x')

statement error 42701
INSERT INTO t (id, id) VALUES (8, 9)

# Values are assigned with the column's type.
statement ok
INSERT INTO t VALUES ('8', 'h' || 'oney', '3', '2.345')

query ITIR
SELECT * FROM t WHERE id = 8
----
8  honey  3  2.35

statement error 22P02
INSERT INTO t VALUES (9, 'x', 'many')

# RETURNING
query IT
INSERT INTO t (id, name) VALUES (10, 'kiwi') RETURNING id, name
----
10  kiwi

query ITIR
INSERT INTO t VALUES (11, 'lime', 2, 0.3) RETURNING *
----
11  lime  2  0.30

query RI
INSERT INTO t VALUES (12, 'mango', 3, 1.5), (13, 'nut', 4, 2) RETURNING qty * price, id + 100
----
4.50  112
8.00  113

query T colnames
INSERT INTO t (id, name) VALUES (14, 'olive') RETURNING upper(name) AS shout
----
shout
OLIVE

# ON CONFLICT DO NOTHING skips rows that conflict, also within one statement.
statement count 0
INSERT INTO t VALUES (1, 'dup') ON CONFLICT DO NOTHING

statement count 1
INSERT INTO t VALUES (1, 'dup'), (15, 'pear'), (15, 'pear again') ON CONFLICT DO NOTHING

statement count 1
INSERT INTO t VALUES (16, 'plum'), (2, 'dup') ON CONFLICT (id) DO NOTHING

query IT
INSERT INTO t VALUES (3, 'dup'), (17, 'quince') ON CONFLICT DO NOTHING RETURNING id, name
----
17  quince

query IT
SELECT id, name FROM t WHERE id IN (1, 2, 3, 15, 16, 17) ORDER BY id
----
1   apple
2   banana
3   cherry
15  pear
16  plum
17  quince

statement error 23505
INSERT INTO t VALUES (1, 'dup')

# INSERT ... SELECT
statement ok
CREATE TABLE t2 (id INT PRIMARY KEY, label TEXT)

statement count 4
INSERT INTO t2 SELECT id, name || '!' FROM t WHERE id <= 4

statement count 2
INSERT INTO t2 (label, id) SELECT upper(name), id + 100 FROM t WHERE qty > 3

statement ok
INSERT INTO t2 SELECT 1000, 'constant'

query IT
SELECT * FROM t2 ORDER BY id
----
1     apple!
2     banana!
3     cherry!
4     date!
101   APPLE
113   NUT
1000  constant

statement error 23505
INSERT INTO t2 SELECT id, name FROM t WHERE id = 1

statement count 0
INSERT INTO t2 SELECT id, name FROM t WHERE id = 1 ON CONFLICT DO NOTHING

# UPDATE
statement count 1
UPDATE t SET qty = qty + 1 WHERE id = 1

statement count 0
UPDATE t SET qty = 0 WHERE id = 999

statement ok
UPDATE t SET qty = 100, price = price * 2 WHERE name LIKE 'b%'

query ITIR
SELECT * FROM t WHERE id IN (1, 2) ORDER BY id
----
1  apple   11   1.25
2  banana  100  1.00

# Every assignment sees the old row.
statement ok
CREATE TABLE sw (id INT PRIMARY KEY, a INT, b INT)

statement ok
INSERT INTO sw VALUES (1, 1, 2), (2, 3, 4)

statement count 2
UPDATE sw SET a = b, b = a

query III
SELECT * FROM sw ORDER BY id
----
1  2  1
2  4  3

query III
UPDATE sw SET a = a * 10 WHERE id = 2 RETURNING id, a, b
----
2  40  3

statement ok
UPDATE sw SET a = DEFAULT WHERE id = 1

query III
SELECT * FROM sw ORDER BY id
----
1  NULL  1
2  40    3

# Updating the primary key moves the row.
statement ok
UPDATE sw SET id = 20 WHERE id = 2

query III
SELECT * FROM sw ORDER BY id
----
1   NULL  1
20  40    3

statement error 23505
UPDATE sw SET id = 1 WHERE id = 20

statement error 42703
UPDATE sw SET nope = 1

statement error 22P02
UPDATE sw SET a = 'x'

# UPDATE without WHERE touches every row.
statement count 2
UPDATE sw SET b = b + 1

query III
SELECT * FROM sw ORDER BY id
----
1   NULL  2
20  40    4

# DELETE
statement count 1
DELETE FROM sw WHERE id = 1

statement count 0
DELETE FROM sw WHERE id = 1

query III
DELETE FROM sw RETURNING *
----
20  40  4

query III
SELECT * FROM sw
----

query IT rowsort
DELETE FROM t WHERE qty >= 4 RETURNING id, name
----
1   apple
13  nut
2   banana

query IT
SELECT id, name FROM t ORDER BY id
----
3   cherry
4   date
5   elder
6   fig
7   grape
8   honey
10  kiwi
11  lime
12  mango
14  olive
15  pear
16  plum
17  quince

statement count 0
DELETE FROM t WHERE false

statement ok
DELETE FROM t

query I
SELECT id FROM t
----

# A NULL in WHERE matches nothing.
statement ok
INSERT INTO t VALUES (1, 'a', NULL, NULL), (2, 'b', 1, NULL)

statement count 0
UPDATE t SET name = 'changed' WHERE qty = NULL

statement count 1
UPDATE t SET name = 'changed' WHERE qty IS NULL

statement count 1
DELETE FROM t WHERE qty IS NOT NULL

query ITIR
SELECT * FROM t
----
1  changed  NULL  NULL

# DEFAULT VALUES, INSERT ... SELECT with ORDER BY and LIMIT, self-insert.
statement ok
CREATE TABLE dv (id SERIAL PRIMARY KEY, v TEXT DEFAULT 'x', n INT)

statement ok
INSERT INTO dv DEFAULT VALUES

statement ok
INSERT INTO dv DEFAULT VALUES

query TI
SELECT v, n FROM dv ORDER BY id
----
x  NULL
x  NULL

statement ok
CREATE TABLE src (id INT PRIMARY KEY, v INT)

statement ok
INSERT INTO src VALUES (1, 10), (2, 20), (3, 30), (4, 40)

statement count 2
INSERT INTO src SELECT id + 100, v FROM src ORDER BY id DESC LIMIT 2

statement count 6
INSERT INTO src SELECT id + 1000, v + 1 FROM src

query II
SELECT * FROM src ORDER BY id
----
1     10
2     20
3     30
4     40
103   30
104   40
1001  11
1002  21
1003  31
1004  41
1103  31
1104  41

query II rowsort
UPDATE src SET v = v * 2 WHERE id > 1000 AND v > 30 RETURNING id, v
----
1003  62
1004  82
1103  62
1104  82

statement count 6
DELETE FROM src WHERE id >= 1000

query II rowsort
DELETE FROM src WHERE v = 40 RETURNING *
----
104  40
4    40

query II
SELECT * FROM src ORDER BY id
----
1    10
2    20
3    30
103  30

# RETURNING shows the new row of an UPDATE and the old row of a DELETE.
query II
UPDATE src SET id = id * 10, v = v + 1 WHERE id = 2 RETURNING id, v
----
20  21

query IIB
DELETE FROM src WHERE id = 20 RETURNING id, v, v = 21
----
20  21  t

# VALUES lists of different lengths.
statement ok
CREATE TABLE vals (id INT PRIMARY KEY, v INT)

statement error 42601 VALUES lists must all be the same length
INSERT INTO vals VALUES (1, 2), (3)

statement error 42601 VALUES lists must all be the same length
INSERT INTO vals (id) VALUES (1), (2, 3)

# A value that cannot be assigned to its column's type.
statement error 42804 column "v" is of type integer but expression is of type boolean
INSERT INTO vals VALUES (1, true)

