# DDL: CREATE TABLE and DROP TABLE, column constraints, defaults, SERIAL,
# tables without a primary key.

statement ok
CREATE TABLE kv (k INT PRIMARY KEY, v TEXT)

statement error 42P07 relation "kv" already exists
CREATE TABLE kv (k INT PRIMARY KEY)

# IF NOT EXISTS leaves the existing table as it is.
statement ok
CREATE TABLE IF NOT EXISTS kv (x INT, y INT, z INT)

statement ok
INSERT INTO kv VALUES (1, 'one')

query IT
SELECT * FROM kv
----
1  one

statement ok
DROP TABLE kv

statement error 42P01 relation "kv" does not exist
SELECT * FROM kv

statement error 42P01
DROP TABLE kv

statement ok
DROP TABLE IF EXISTS kv

# A dropped name can be used again, with a different shape.
statement ok
CREATE TABLE kv (a TEXT PRIMARY KEY, b INT, c BOOL)

statement ok
INSERT INTO kv VALUES ('x', 1, true)

query TIB
SELECT a, b, c FROM kv
----
x  1  t

statement ok
DROP TABLE kv

# Identifiers: unquoted names fold to lower case, quoted ones do not.
statement ok
CREATE TABLE MixedCase (Id INT PRIMARY KEY, "Name" TEXT)

statement ok
INSERT INTO mixedcase (ID, "Name") VALUES (1, 'a')

query IT colnames
SELECT id, "Name" FROM MIXEDCASE
----
id  Name
1   a

statement error 42703
SELECT name FROM mixedcase

statement error 42P01
SELECT * FROM "MixedCase"

statement ok
DROP TABLE mixedcase

# Defaults: constants, expressions, NULL, and DEFAULT in VALUES.
statement ok
CREATE TABLE d (
  id INT PRIMARY KEY,
  n INT DEFAULT 42,
  s TEXT DEFAULT 'dflt',
  e INT DEFAULT 2 * 3 + 1,
  b BOOL DEFAULT false,
  x NUMERIC(5,2) DEFAULT 1.005,
  z TEXT DEFAULT NULL,
  u TEXT
)

statement ok
INSERT INTO d (id) VALUES (1)

statement ok
INSERT INTO d VALUES (2, DEFAULT, 'given', DEFAULT, true, 9.999, 'z', 'u')

statement ok
INSERT INTO d (id, n) VALUES (3, NULL)

query IITIBRTT rowsort
SELECT id, n, s, e, b, x, z, u FROM d
----
1  42    dflt   7  f  1.01   NULL  NULL
2  42    given  7  t  10.00  z     u
3  NULL  dflt   7  f  1.01   NULL  NULL

statement ok
DROP TABLE d

# NOT NULL, and PRIMARY KEY implies NOT NULL.
statement ok
CREATE TABLE nn (id INT PRIMARY KEY, a TEXT NOT NULL, b TEXT NULL)

statement ok
INSERT INTO nn VALUES (1, 'a', NULL)

statement error 23502 null value in column "a"
INSERT INTO nn VALUES (2, NULL, 'b')

statement error 23502
INSERT INTO nn (id, b) VALUES (3, 'b')

statement error 23502 null value in column "id"
INSERT INTO nn VALUES (NULL, 'a', 'b')

statement error 23502
UPDATE nn SET a = NULL

query ITT
SELECT * FROM nn
----
1  a  NULL

statement ok
DROP TABLE nn

# CHECK constraints: column and table constraints, named ones; a NULL passes.
statement ok
CREATE TABLE ck (
  id INT PRIMARY KEY,
  qty INT CHECK (qty > 0),
  lo INT,
  hi INT,
  CONSTRAINT lo_le_hi CHECK (lo <= hi)
)

statement ok
INSERT INTO ck VALUES (1, 5, 1, 2), (2, NULL, NULL, 3), (3, 1, 4, 4)

statement error 23514
INSERT INTO ck VALUES (4, 0, 1, 2)

statement error 23514 lo_le_hi
INSERT INTO ck VALUES (5, 1, 3, 2)

statement error 23514
UPDATE ck SET qty = qty - 5 WHERE id = 1

statement ok
UPDATE ck SET qty = qty - 4 WHERE id = 1

query IIII
SELECT * FROM ck ORDER BY id
----
1  1     1     2
2  NULL  NULL  3
3  1     4     4

statement ok
DROP TABLE ck

# UNIQUE: column and table constraints; several NULLs are allowed.
statement ok
CREATE TABLE uq (id INT PRIMARY KEY, email TEXT UNIQUE, a INT, b INT, UNIQUE (a, b))

statement ok
INSERT INTO uq VALUES (1, 'a@x', 1, 1), (2, 'b@x', 1, 2), (3, NULL, NULL, 1), (4, NULL, NULL, 1)

statement error 23505
INSERT INTO uq VALUES (5, 'a@x', 9, 9)

statement error 23505
INSERT INTO uq VALUES (6, 'c@x', 1, 2)

statement error 23505
UPDATE uq SET email = 'b@x' WHERE id = 1

# Swapping values within a statement is fine once the statement is done.
statement ok
UPDATE uq SET email = 'z@x' WHERE id = 1

statement ok
INSERT INTO uq VALUES (7, 'a@x', 2, 2)

query ITII rowsort
SELECT * FROM uq
----
1  z@x   1     1
2  b@x   1     2
3  NULL  NULL  1
4  NULL  NULL  1
7  a@x   2     2

statement ok
DROP TABLE uq

# Composite primary keys.
statement ok
CREATE TABLE comp (a INT, b TEXT, c FLOAT8, PRIMARY KEY (a, b))

statement ok
INSERT INTO comp VALUES (1, 'x', 1.5), (1, 'y', 2.5), (2, 'x', 3.5)

statement error 23505
INSERT INTO comp VALUES (1, 'y', 0)

query ITR
SELECT * FROM comp ORDER BY a, b
----
1  x  1.5
1  y  2.5
2  x  3.5

statement error 23502
INSERT INTO comp VALUES (1, NULL, 0)

statement ok
DROP TABLE comp

statement error 42P16
CREATE TABLE twopk (a INT PRIMARY KEY, b INT PRIMARY KEY)

statement error 42701
CREATE TABLE dupcol (a INT, a TEXT)

statement error 42704
CREATE TABLE badtype (a NOSUCHTYPE)

# SERIAL, BIGSERIAL, SMALLSERIAL: ascending values, explicit values allowed.
statement ok
CREATE TABLE ser (id SERIAL PRIMARY KEY, big BIGSERIAL, small SMALLSERIAL, v TEXT)

statement ok
INSERT INTO ser (v) VALUES ('a')

statement ok
INSERT INTO ser (v) VALUES ('b'), ('c')

query T
SELECT v FROM ser ORDER BY id
----
a
b
c

query B
SELECT id > 0 AND big > 0 AND small > 0 FROM ser ORDER BY id
----
t
t
t

statement error 23502
INSERT INTO ser (id, v) VALUES (NULL, 'x')

statement ok
INSERT INTO ser (id, big, small, v) VALUES (1000, 2000, 3000, 'explicit')

query IIIT
SELECT * FROM ser WHERE v = 'explicit'
----
1000  2000  3000  explicit

statement ok
DROP TABLE ser

# Tables without a primary key keep duplicate rows.
statement ok
CREATE TABLE nopk (a INT, b TEXT)

statement ok
INSERT INTO nopk VALUES (1, 'x'), (1, 'x'), (2, NULL)

query IT rowsort
SELECT * FROM nopk
----
1  x
1  x
2  NULL

statement count 2
UPDATE nopk SET b = 'y' WHERE a = 1

statement count 2
DELETE FROM nopk WHERE b = 'y'

query IT
SELECT * FROM nopk
----
2  NULL

# The hidden row id column is not part of SELECT *.
query T colnames
SELECT b FROM nopk
----
b
NULL

statement ok
DROP TABLE nopk

# DROP of several tables at once.
statement ok
CREATE TABLE m1 (a INT)

statement ok
CREATE TABLE m2 (a INT)

statement ok
DROP TABLE m1, m2

statement error 42P01
SELECT * FROM m2

statement ok
DROP TABLE IF EXISTS m1, m2

# Checked at CREATE: CHECK names must resolve, a DEFAULT may not refer to
# a column and must convert to its column's type.
statement error 42703 column "nope" does not exist
CREATE TABLE ck_unknown (a INT CHECK (nope > 0))

statement error 0A000 cannot use column reference in DEFAULT expression
CREATE TABLE dflt_col (a INT, b INT DEFAULT a)

statement error 22P02 invalid input syntax for type integer: "abc"
CREATE TABLE dflt_abc (a INT DEFAULT 'abc')

statement error 42P01 table "no_such_table" does not exist
DROP TABLE no_such_table

# CREATE TABLE of an existing table without a primary key.
statement ok
CREATE TABLE nopk_again (a INT)

statement error 42P07 relation "nopk_again" already exists
CREATE TABLE nopk_again (a INT)

# Default names of CHECK constraints: the column when there is one.
statement ok
CREATE TABLE ck_names (a INT CHECK (a > 0), b INT CHECK (b > a), c INT, CHECK (c > 0), CHECK (c < 100), CHECK (a < 100))

query T rowsort
SELECT conname FROM pg_constraint WHERE contype = 'c' AND conrelid = 'ck_names'::regclass
----
ck_names_a_check
ck_names_a_check1
ck_names_c_check
ck_names_c_check1
ck_names_check

