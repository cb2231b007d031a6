# Schema changes on tables with rows: CREATE INDEX / DROP INDEX, ALTER
# TABLE (columns, constraints, renames, primary key), TRUNCATE; queries
# through indexes and key ranges return what a full scan would.

statement ok
CREATE TABLE t (a INT PRIMARY KEY, b TEXT, n INT)

statement ok
INSERT INTO t VALUES (1, 'x', 10), (2, 'y', 20), (3, 'x', 30), (4, NULL, 40), (5, 'z', NULL)

# CREATE INDEX builds the index over the existing rows.
statement ok
CREATE INDEX t_b_idx ON t (b)

query I rowsort
SELECT a FROM t WHERE b = 'x'
----
1
3

query I rowsort
SELECT a FROM t WHERE b > 'x'
----
2
5

query I rowsort
SELECT a FROM t WHERE b >= 'x' AND b < 'z'
----
1
2
3

query I
SELECT count(*) FROM t WHERE b IS NULL
----
1

statement error 42P07 relation "t_b_idx" already exists
CREATE INDEX t_b_idx ON t (n)

statement ok
CREATE INDEX IF NOT EXISTS t_b_idx ON t (n)

statement error 42703
CREATE INDEX t_nope_idx ON t (nope)

statement error 42P01
CREATE INDEX ON nope (a)

# Writes keep the index current.
statement ok
UPDATE t SET b = 'w' WHERE a = 3

statement ok
INSERT INTO t VALUES (6, 'x', 60)

statement ok
DELETE FROM t WHERE a = 1

query IT rowsort
SELECT a, b FROM t WHERE b = 'x' OR b = 'w'
----
3  w
6  x

query I
SELECT a FROM t WHERE b = 'x'
----
6

# A unique index over duplicate values fails, and leaves nothing behind.
statement ok
INSERT INTO t VALUES (7, 'x', 70)

statement error 23505 could not create unique index "t_b_key"
CREATE UNIQUE INDEX t_b_key ON t (b)

statement error 42704 index "t_b_key" does not exist
DROP INDEX t_b_key

statement ok
CREATE UNIQUE INDEX t_n_key ON t (n)

statement error 23505 duplicate key value violates unique constraint "t_n_key"
INSERT INTO t VALUES (8, 'q', 70)

# NULLs are never equal: several rows may have a NULL n.
statement ok
INSERT INTO t VALUES (8, 'q', NULL)

query I
SELECT a FROM t WHERE n = 40
----
4

query I rowsort
SELECT a FROM t WHERE n BETWEEN 20 AND 60
----
2
3
4
6

query I rowsort
SELECT a FROM t WHERE n < 30
----
2

# Descending and multi-column indexes.
statement ok
CREATE INDEX t_b_n_idx ON t (b DESC, n)

query I
SELECT a FROM t WHERE b = 'x' AND n > 10 ORDER BY a
----
6
7

query I
SELECT a FROM t WHERE b < 'y' ORDER BY a
----
3
6
7
8

statement ok
DROP INDEX t_b_n_idx, t_n_key

statement error 42704 index "t_b_n_idx" does not exist
DROP INDEX t_b_n_idx

statement ok
DROP INDEX IF EXISTS t_b_n_idx

statement ok
INSERT INTO t VALUES (9, 'r', 70)

# Primary key ranges.
query I
SELECT a FROM t WHERE a > 3 AND a <= 6 ORDER BY a
----
4
5
6

query I
SELECT a FROM t WHERE a BETWEEN 7 AND 100 ORDER BY a
----
7
8
9

query I
SELECT a FROM t WHERE a < 3
----
2

# ADD COLUMN: rows already there read the default.
statement ok
ALTER TABLE t ADD COLUMN c INT NOT NULL DEFAULT 5

statement ok
ALTER TABLE t ADD COLUMN d TEXT, ADD COLUMN e BOOL DEFAULT true

statement ok
INSERT INTO t (a, b) VALUES (10, 's')

statement ok
INSERT INTO t (a, b, c, d, e) VALUES (11, 's', 6, 'dd', false)

query ITIITB
SELECT * FROM t ORDER BY a
----
2   y     20    5  NULL  t
3   w     30    5  NULL  t
4   NULL  40    5  NULL  t
5   z     NULL  5  NULL  t
6   x     60    5  NULL  t
7   x     70    5  NULL  t
8   q     NULL  5  NULL  t
9   r     70    5  NULL  t
10  s     NULL  5  NULL  t
11  s     NULL  6  dd    f

query I
SELECT count(*) FROM t WHERE c = 5 AND e
----
9

statement error 42701 column "c" of relation "t" already exists
ALTER TABLE t ADD COLUMN c INT

statement ok
ALTER TABLE t ADD COLUMN IF NOT EXISTS c INT

statement error 23502 column "f" of relation "t" contains null values
ALTER TABLE t ADD COLUMN f INT NOT NULL

statement error 42P01
ALTER TABLE nope ADD COLUMN x INT

statement ok
ALTER TABLE IF EXISTS nope ADD COLUMN x INT

# An index over an added column indexes the default of the old rows.
statement ok
CREATE INDEX t_c_idx ON t (c)

query I
SELECT count(*) FROM t WHERE c = 5
----
9

statement ok
UPDATE t SET c = 7 WHERE a IN (2, 3)

query I
SELECT a FROM t WHERE c = 7 ORDER BY a
----
2
3

# ALTER COLUMN: defaults and NOT NULL.
statement ok
ALTER TABLE t ALTER COLUMN d SET DEFAULT 'dflt'

statement ok
INSERT INTO t (a) VALUES (12)

query T
SELECT d FROM t WHERE a = 12
----
dflt

statement ok
ALTER TABLE t ALTER COLUMN d DROP DEFAULT

statement ok
INSERT INTO t (a) VALUES (13)

query T
SELECT d FROM t WHERE a = 13
----
NULL

statement error 23502 column "d" of relation "t" contains null values
ALTER TABLE t ALTER COLUMN d SET NOT NULL

statement ok
ALTER TABLE t ALTER COLUMN c DROP NOT NULL

statement ok
INSERT INTO t (a, c) VALUES (14, NULL)

statement error 42P16 column "a" is in a primary key
ALTER TABLE t ALTER COLUMN a DROP NOT NULL

statement ok
DELETE FROM t WHERE c IS NULL

statement ok
ALTER TABLE t ALTER COLUMN c SET NOT NULL

statement error 23502
INSERT INTO t (a, c) VALUES (15, NULL)

# CHECK constraints are validated against the rows there.
statement error 23514 check constraint "t_c_check" of relation "t" is violated by some row
ALTER TABLE t ADD CHECK (c > 5)

statement ok
ALTER TABLE t ADD CHECK (c > 0)

statement error 23514 violates check constraint "t_c_check"
INSERT INTO t (a, c) VALUES (15, 0)

statement ok
ALTER TABLE t ADD CONSTRAINT n_small CHECK (n < 1000) NOT VALID

statement error 23514 violates check constraint "n_small"
UPDATE t SET n = 1000 WHERE a = 2

statement error 42710 constraint "n_small" for relation "t" already exists
ALTER TABLE t ADD CONSTRAINT n_small CHECK (n < 100)

statement ok
ALTER TABLE t DROP CONSTRAINT n_small

statement ok
UPDATE t SET n = 1000 WHERE a = 2

statement error 42704 constraint "n_small" of relation "t" does not exist
ALTER TABLE t DROP CONSTRAINT n_small

statement ok
ALTER TABLE t DROP CONSTRAINT IF EXISTS n_small

# UNIQUE constraints build a unique index.
statement error 23505 could not create unique index "t_c_key"
ALTER TABLE t ADD UNIQUE (c)

statement ok
ALTER TABLE t ADD CONSTRAINT t_a_c_key UNIQUE (a, c)

statement ok
ALTER TABLE t ADD UNIQUE (b, n)

statement error 23505 duplicate key value violates unique constraint "t_b_n_key"
INSERT INTO t (a, b, n) VALUES (20, 'x', 60)

statement ok
ALTER TABLE t DROP CONSTRAINT t_b_n_key

statement ok
INSERT INTO t (a, b, n) VALUES (20, 'x', 60)

statement error 42P16 multiple primary keys for table "t" are not allowed
ALTER TABLE t ADD PRIMARY KEY (n)

# DROP COLUMN drops the indexes and CHECK constraints that use it.
statement ok
ALTER TABLE t DROP COLUMN c

statement error 42704 index "t_c_idx" does not exist
DROP INDEX t_c_idx

statement ok
INSERT INTO t (a, b) VALUES (21, 'u')

statement error 42703 column "zz" of relation "t" does not exist
ALTER TABLE t DROP COLUMN zz

statement ok
ALTER TABLE t DROP COLUMN IF EXISTS zz

statement ok
ALTER TABLE t DROP COLUMN e, DROP COLUMN d

query ITI
SELECT * FROM t WHERE a > 8 ORDER BY a
----
9   r     70
10  s     NULL
11  s     NULL
12  NULL  NULL
13  NULL  NULL
20  x     60
21  u     NULL

# Renames.
statement ok
ALTER TABLE t ADD CONSTRAINT n_positive CHECK (n > 0)

statement ok
ALTER TABLE t RENAME COLUMN n TO num

statement error 42703 column "n" does not exist
SELECT n FROM t

statement error 23514 violates check constraint "n_positive"
INSERT INTO t (a, num) VALUES (30, -1)

statement error 42701 column "b" of relation "t" already exists
ALTER TABLE t RENAME COLUMN num TO b

statement ok
ALTER TABLE t RENAME CONSTRAINT n_positive TO num_positive

statement error 23514 violates check constraint "num_positive"
INSERT INTO t (a, num) VALUES (30, -1)

statement ok
ALTER INDEX t_b_idx RENAME TO t_b_index

statement ok
DROP INDEX t_b_index

statement ok
ALTER TABLE t RENAME TO t2

statement error 42P01
SELECT * FROM t

query IT
SELECT a, b FROM t2 WHERE num = 70 ORDER BY a
----
7  x
9  r

statement ok
CREATE TABLE other (x INT)

statement error 42P07 relation "other" already exists
ALTER TABLE t2 RENAME TO other

# TRUNCATE empties the table; the indexes stay.
statement ok
CREATE INDEX t2_num_idx ON t2 (num)

statement ok
TRUNCATE t2

query I
SELECT count(*) FROM t2
----
0

statement ok
INSERT INTO t2 (a, b, num) VALUES (1, 'x', 70), (2, 'y', 71)

query I
SELECT a FROM t2 WHERE num = 70
----
1

statement ok
TRUNCATE TABLE t2, other

statement error 42P01
TRUNCATE nope

# ADD PRIMARY KEY on a table created without one.
statement ok
INSERT INTO other VALUES (1), (2), (NULL)

statement error 23502 column "x" of relation "other" contains null values
ALTER TABLE other ADD PRIMARY KEY (x)

statement ok
DELETE FROM other WHERE x IS NULL

statement ok
INSERT INTO other VALUES (2)

statement error 23505 could not create unique index "other_pkey"
ALTER TABLE other ADD PRIMARY KEY (x)

statement ok
DELETE FROM other WHERE x = 2

statement ok
INSERT INTO other VALUES (2), (3)

statement ok
ALTER TABLE other ADD COLUMN y TEXT DEFAULT 'y'

statement ok
CREATE INDEX other_y_idx ON other (y)

statement ok
ALTER TABLE other ADD PRIMARY KEY (x)

statement error 23505 duplicate key value violates unique constraint "other_pkey"
INSERT INTO other VALUES (3, 'z')

statement ok
INSERT INTO other VALUES (4, 'z')

query IT
SELECT * FROM other ORDER BY x
----
1  y
2  y
3  y
4  z

query I
SELECT x FROM other WHERE y = 'z'
----
4

query I
SELECT x FROM other WHERE x >= 3 ORDER BY x
----
3
4

statement error 42P16 multiple primary keys for table "other" are not allowed
ALTER TABLE other ADD PRIMARY KEY (y)

statement ok
DROP TABLE t2, other

# Default names of added CHECK constraints.
statement ok
CREATE TABLE ck_alter (a INT, b INT)

statement ok
ALTER TABLE ck_alter ADD CHECK (a > 0), ADD CHECK (b > a), ADD CHECK (a < 10)

query T rowsort
SELECT conname FROM pg_constraint WHERE contype = 'c' AND conrelid = 'ck_alter'::regclass
----
ck_alter_a_check
ck_alter_a_check1
ck_alter_check
