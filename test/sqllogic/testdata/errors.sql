# Errors and their SQLSTATEs.

statement ok
CREATE TABLE e (id INT PRIMARY KEY, name TEXT NOT NULL, n INT CHECK (n >= 0), u TEXT UNIQUE)

statement ok
INSERT INTO e VALUES (1, 'a', 1, 'x')

# 42601 syntax_error
statement error 42601 syntax error at or near "SELEC"
SELEC 1

statement error 42601
SELECT FROM WHERE

statement error 42601
SELECT 1 +

statement error 42601 syntax error at end of input
SELECT * FROM

statement error 42601
INSERT INTO e VALUES (1, 'a'

statement error 42601
CREATE TABLE (a INT)

statement error 42601
SELECT 'unterminated

statement error 42601
UPDATE e SET WHERE id = 1

# 42P01 undefined_table
statement error 42P01 relation "nope" does not exist
SELECT * FROM nope

statement error 42P01
INSERT INTO nope VALUES (1)

statement error 42P01
UPDATE nope SET a = 1

statement error 42P01
DELETE FROM nope

# 42703 undefined_column
statement error 42703 column "nope" does not exist
SELECT nope FROM e

statement error 42703
SELECT id FROM e WHERE nope > 1

statement error 42703
SELECT id FROM e ORDER BY nope

statement error 42703
INSERT INTO e (id, nope) VALUES (2, 1)

statement error 42703
UPDATE e SET n = nope

statement error 42703
DELETE FROM e WHERE nope IS NULL

statement error 42703
INSERT INTO e VALUES (3, 'c', 0, 'z') RETURNING nope

# 23505 unique_violation
statement error 23505 duplicate key value violates unique constraint
INSERT INTO e VALUES (1, 'b', 2, 'y')

statement error 23505
INSERT INTO e VALUES (2, 'b', 2, 'x')

statement error 23505
INSERT INTO e VALUES (2, 'b', 2, 'y'), (2, 'c', 3, 'z')

# 23502 not_null_violation
statement error 23502 null value in column "name" of relation "e" violates not-null constraint
INSERT INTO e VALUES (2, NULL, 1, 'y')

statement error 23502
UPDATE e SET name = NULL WHERE id = 1

# 23514 check_violation
statement error 23514 new row for relation "e" violates check constraint
INSERT INTO e VALUES (2, 'b', -1, 'y')

statement error 23514
UPDATE e SET n = -5

# None of the failed statements wrote anything.
query ITIT
SELECT * FROM e
----
1  a  1  x

# 22012 division_by_zero
statement error 22012 division by zero
SELECT 1 / 0

statement error 22012
SELECT 1.5 / 0

statement error 22012
SELECT 1::float8 / 0

statement error 22012
SELECT id / (n - 1) FROM e

statement error 22012
UPDATE e SET n = n / 0

# 22003 numeric_value_out_of_range
statement error 22003
SELECT 2147483647::int4 * 2

statement error 22003
SELECT 32767::int2 + 1::int2

statement error 22003
INSERT INTO e VALUES (3000000000, 'big', 0, NULL)

statement error 22003
SELECT 12345.678::numeric(4,1)

# 22P02 invalid_text_representation, 22001 string_data_right_truncation
statement error 22P02
SELECT 'x'::int

statement error 22P02
INSERT INTO e VALUES ('one', 'b', 1, 'y')

statement error 22P02
SELECT id FROM e WHERE id = 'one'

# 42804 datatype_mismatch, 42883 undefined_function
statement error 42883
SELECT 1 + 'a'::text

statement error 42883
SELECT 'a'::text - 'b'::text

statement error 42804
SELECT id FROM e WHERE name

statement error 42804 column "n" is of type integer but expression is of type boolean
UPDATE e SET n = true

# 42P07 duplicate_table
statement error 42P07
CREATE TABLE e (a INT)

# Errors leave the session usable.
query I
SELECT id FROM e
----
1

# Features that Cairn does not support yet answer 0A000
# (feature_not_supported); PostgreSQL runs them.
onlyif cairn
statement error 0A000
SELECT * FROM e, LATERAL (SELECT e.id) AS sub

onlyif cairn
statement error 0A000
SELECT ROW(id, name) FROM e

onlyif cairn
statement error 0A000
SELECT * FROM ROWS FROM (generate_series(1, 2))

onlyif cairn
statement error 0A000
WITH x AS (DELETE FROM e RETURNING id) SELECT * FROM x

onlyif cairn
statement error 0A000 SKIP LOCKED is not supported
SELECT id FROM e FOR UPDATE SKIP LOCKED

statement error 0A000 FOR UPDATE is not allowed with aggregate functions
SELECT count(*) FROM e FOR UPDATE

statement error 42P01 relation "nope" in FOR UPDATE clause not found in FROM clause
SELECT id FROM e FOR UPDATE OF nope

onlyif cairn
statement error 0A000
CREATE INDEX e_lower ON e (lower(name))

onlyif cairn
statement error 0A000
ALTER TABLE e ALTER COLUMN name TYPE VARCHAR(10)

onlyif cairn
statement error 0A000
TRUNCATE e RESTART IDENTITY

onlyif cairn
statement error 0A000
CREATE VIEW v AS SELECT id FROM e

onlyif cairn
statement error 0A000
CREATE SEQUENCE s CYCLE

onlyif cairn
statement error 0A000
EXPLAIN ANALYZE SELECT * FROM e

statement error 42601
SELECT 1 FROM e WHERE id = 1 AND

statement error 42P10
SELECT id FROM e ORDER BY 5

statement error 42601
INSERT INTO e (id) VALUES (1), (2, 3)

statement error 42704
SELECT CAST('x' AS nosuchtype)

statement error 42P01
DROP TABLE e, nope

query I
SELECT id FROM e
----
1

statement error 22P02
SELECT * FROM e LIMIT 'a'

statement error 42601
SELECT (1

statement error 42601
CREATE TABLE t (a INT,)

statement error 42703
SELECT e.nope FROM e

statement error 42703
SELECT * FROM e ORDER BY e.nope

statement error 42883
SELECT 'a'::text * 2

statement error 42883
SELECT -'a'::text

statement error 42804
UPDATE e SET n = n WHERE 1

statement error 22P02
SELECT 'abc'::uuid

statement error 22P02
SELECT '{'::jsonb

statement error 22008
SELECT '2024-13-01'::date

statement error 22008
SELECT '1000000 years'::interval * 1000000
