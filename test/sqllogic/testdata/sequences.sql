# Sequences: CREATE/DROP SEQUENCE, nextval, currval, setval, SERIAL.

statement ok
CREATE SEQUENCE s

statement error 55000 currval of sequence "s" is not yet defined in this session
SELECT currval('s')

query III
SELECT nextval('s'), nextval('s'), currval('s')
----
1  2  2

query I
SELECT nextval('s')
----
3

statement error 42P07 relation "s" already exists
CREATE SEQUENCE s

statement ok
CREATE SEQUENCE IF NOT EXISTS s

# Names resolve as regclass input does: unquoted parts fold to lower case.
query II
SELECT nextval('S'), nextval('public.s')
----
4  5

statement error 42P01 relation "nope" does not exist
SELECT nextval('nope')

query I
SELECT nextval(NULL)
----
NULL

# setval: the next value follows the one set, or is it (is_called false).
query I
SELECT setval('s', 100)
----
100

query II
SELECT nextval('s'), currval('s')
----
101  101

query I
SELECT setval('s', 50, false)
----
50

query I
SELECT currval('s')
----
101

query I
SELECT nextval('s')
----
50

statement error 22003 setval: value 0 is out of bounds for sequence "s"
SELECT setval('s', 0)

# Options.
statement ok
CREATE SEQUENCE step INCREMENT BY 10 START WITH 5 MAXVALUE 30 CACHE 3

query III
SELECT nextval('step'), nextval('step'), nextval('step')
----
5  15  25

statement error 2200H reached maximum value of sequence "step" \(30\)
SELECT nextval('step')

statement ok
CREATE SEQUENCE down INCREMENT BY -1

query II
SELECT nextval('down'), nextval('down')
----
-1  -2

statement ok
CREATE SEQUENCE small AS smallint START WITH 32766

query II
SELECT nextval('small'), nextval('small')
----
32766  32767

statement error 2200H
SELECT nextval('small')

statement error 22023 INCREMENT must not be zero
CREATE SEQUENCE bad INCREMENT BY 0

statement error 22023 START value \(0\) cannot be less than MINVALUE \(1\)
CREATE SEQUENCE bad START WITH 0

statement error 22023 MINVALUE \(10\) must be less than MAXVALUE \(5\)
CREATE SEQUENCE bad MINVALUE 10 MAXVALUE 5

# nextval in a DEFAULT.
statement ok
CREATE SEQUENCE ids START WITH 1000

statement ok
CREATE TABLE t (id INT PRIMARY KEY DEFAULT nextval('ids'), v TEXT)

statement ok
INSERT INTO t (v) VALUES ('a'), ('b')

query IT
SELECT id, v FROM t ORDER BY id
----
1000  a
1001  b

# nextval is not transactional: a rolled back value is not handed out again.
statement ok
BEGIN

query I
SELECT nextval('ids')
----
1002

statement ok
ROLLBACK

query I
SELECT nextval('ids')
----
1003

# A SERIAL column's sequence is named <table>_<column>_seq.
statement ok
CREATE TABLE ser (id SERIAL PRIMARY KEY, v TEXT)

statement ok
INSERT INTO ser (v) VALUES ('x'), ('y')

query II
SELECT currval('ser_id_seq'), nextval('ser_id_seq')
----
2  3

statement ok
INSERT INTO ser (v) VALUES ('z')

query IT
SELECT id, v FROM ser ORDER BY id
----
1  x
2  y
4  z

statement error 2BP01 cannot drop sequence ser_id_seq because other objects depend on it
DROP SEQUENCE ser_id_seq

statement error 42809 "ser" is not a sequence
SELECT nextval('ser')

# DROP SEQUENCE.
statement ok
DROP SEQUENCE s, step

statement error 42P01
SELECT nextval('s')

statement error 42P01 sequence "s" does not exist
DROP SEQUENCE s

statement ok
DROP SEQUENCE IF EXISTS s

statement ok
DROP TABLE t

statement ok
DROP SEQUENCE ids, down, small

# The regclass form, as pg_dump and psql write it.
statement ok
CREATE SEQUENCE r

query II
SELECT nextval('r'::regclass), currval('r'::regclass)
----
1  1

query I
SELECT setval('r'::regclass, 7, true)
----
7

statement ok
DROP SEQUENCE r
