# INSERT ... ON CONFLICT DO UPDATE (upsert) and DO NOTHING with arbiters.

statement ok
CREATE TABLE kv (k INT PRIMARY KEY, v TEXT NOT NULL, n INT DEFAULT 0 CHECK (n >= 0))

statement count 2
INSERT INTO kv VALUES (1, 'a', 1), (2, 'b', 2)

# A conflict on the primary key updates the existing row.
statement count 1
INSERT INTO kv VALUES (1, 'x', 5) ON CONFLICT (k) DO UPDATE SET v = excluded.v

query ITI
SELECT * FROM kv ORDER BY k
----
1  x  1
2  b  2

# No conflict: an insert; the count includes inserted and updated rows.
statement count 2
INSERT INTO kv VALUES (3, 'c', 3), (2, 'y', 9) ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = kv.n + excluded.n

query ITI
SELECT * FROM kv ORDER BY k
----
1  x  1
2  y  11
3  c  3

# RETURNING returns the inserted and the updated rows.
query ITI
INSERT INTO kv VALUES (3, 'cc', 1), (4, 'd', 4) ON CONFLICT (k) DO UPDATE SET n = kv.n * 10 RETURNING k, v, n
----
3  c  30
4  d  4

# The table's alias names the existing row.
query ITI
INSERT INTO kv AS t VALUES (4, 'dd', 7) ON CONFLICT (k) DO UPDATE SET v = t.v || excluded.v, n = t.n + 1 RETURNING *
----
4  ddd  5

statement error 42P01
INSERT INTO kv AS t VALUES (4, 'dd', 7) ON CONFLICT (k) DO UPDATE SET v = kv.v

# An unqualified column is ambiguous between the table and EXCLUDED.
statement error 42702 column reference "v" is ambiguous
INSERT INTO kv VALUES (4, 'dd', 7) ON CONFLICT (k) DO UPDATE SET v = v

statement error 42703
INSERT INTO kv VALUES (4, 'dd', 7) ON CONFLICT (k) DO UPDATE SET v = excluded.nope

statement error 42703
INSERT INTO kv VALUES (4, 'dd', 7) ON CONFLICT (k) DO UPDATE SET nope = 1

# EXCLUDED cannot be used in RETURNING.
statement error 42P01
INSERT INTO kv VALUES (4, 'dd', 7) ON CONFLICT (k) DO UPDATE SET v = 'q' RETURNING excluded.v

# DO UPDATE needs an arbiter.
statement error 42601 ON CONFLICT DO UPDATE requires inference specification or constraint name
INSERT INTO kv VALUES (1, 'z') ON CONFLICT DO UPDATE SET v = 'z'

statement error 42P10 there is no unique or exclusion constraint matching the ON CONFLICT specification
INSERT INTO kv VALUES (1, 'z') ON CONFLICT (v) DO UPDATE SET v = 'z'

statement error 42704 constraint "nope" for table "kv" does not exist
INSERT INTO kv VALUES (1, 'z') ON CONFLICT ON CONSTRAINT nope DO UPDATE SET v = 'z'

# ON CONSTRAINT names the primary key.
query IT
INSERT INTO kv VALUES (1, 'z') ON CONFLICT ON CONSTRAINT kv_pkey DO UPDATE SET v = excluded.v RETURNING k, v
----
1  z

# The same key proposed twice.
statement error 21000 ON CONFLICT DO UPDATE command cannot affect row a second time
INSERT INTO kv VALUES (5, 'e'), (5, 'f') ON CONFLICT (k) DO UPDATE SET v = excluded.v

statement error 21000
INSERT INTO kv VALUES (1, 'e'), (1, 'f') ON CONFLICT (k) DO UPDATE SET v = excluded.v

# Nothing was written by the failed statements.
query ITI
SELECT * FROM kv ORDER BY k
----
1  z    1
2  y    11
3  c    30
4  ddd  5

# DO NOTHING with the same key twice is fine.
statement count 1
INSERT INTO kv VALUES (5, 'e'), (5, 'f') ON CONFLICT (k) DO NOTHING

# WHERE filters the updates: a row it rejects is neither updated nor counted.
statement count 1
INSERT INTO kv VALUES (1, 'w', 0), (2, 'w', 0) ON CONFLICT (k) DO UPDATE SET v = excluded.v WHERE kv.n > 5

query IT
SELECT k, v FROM kv WHERE k IN (1, 2) ORDER BY k
----
1  z
2  w

query IT
INSERT INTO kv VALUES (1, 'w', 0), (6, 'f', 0) ON CONFLICT (k) DO UPDATE SET v = excluded.v WHERE excluded.n > 0 RETURNING k, v
----
6  f

# DEFAULT in SET.
query ITI
INSERT INTO kv VALUES (2, 'w') ON CONFLICT (k) DO UPDATE SET n = DEFAULT RETURNING *
----
2  w  0

# EXCLUDED has the defaults of the proposed row.
query ITI
INSERT INTO kv (k, v) VALUES (3, 'q') ON CONFLICT (k) DO UPDATE SET n = excluded.n + 100 RETURNING *
----
3  c  100

# CHECK and NOT NULL apply to the updated row.
statement error 23514 new row for relation "kv" violates check constraint "kv_n_check"
INSERT INTO kv VALUES (3, 'q') ON CONFLICT (k) DO UPDATE SET n = -1

statement error 23502
INSERT INTO kv VALUES (3, 'q') ON CONFLICT (k) DO UPDATE SET v = NULL

# Updating the key itself.
query IT
INSERT INTO kv VALUES (6, 'x') ON CONFLICT (k) DO UPDATE SET k = 60 RETURNING k, v
----
60  f

statement error 23505 duplicate key value violates unique constraint "kv_pkey"
INSERT INTO kv VALUES (60, 'x') ON CONFLICT (k) DO UPDATE SET k = 1

query ITI
SELECT * FROM kv ORDER BY k
----
1   z    1
2   w    0
3   c    100
4   ddd  5
5   e    0
60  f    0

# A unique secondary index as the arbiter.
statement ok
CREATE TABLE users (id INT PRIMARY KEY, email TEXT UNIQUE, name TEXT, visits INT DEFAULT 1)

statement ok
INSERT INTO users VALUES (1, 'a@x', 'Ann', 1), (2, 'b@x', 'Bob', 1)

query ITTI
INSERT INTO users VALUES (3, 'a@x', 'Annie') ON CONFLICT (email) DO UPDATE SET name = excluded.name, visits = users.visits + 1 RETURNING *
----
1  a@x  Annie  2

query ITTI
INSERT INTO users VALUES (3, 'c@x', 'Cy') ON CONFLICT (email) DO UPDATE SET visits = users.visits + 1 RETURNING *
----
3  c@x  Cy  1

# The index stays consistent when the update changes the unique column.
query ITTI
INSERT INTO users VALUES (9, 'b@x', 'B') ON CONFLICT (email) DO UPDATE SET email = 'bob@x' RETURNING *
----
2  bob@x  Bob  1

query IT
SELECT id, email FROM users WHERE email = 'b@x'
----

query IT
SELECT id, email FROM users WHERE email = 'bob@x'
----
2  bob@x

statement ok
INSERT INTO users VALUES (4, 'b@x', 'New B')

query IT rowsort
SELECT id, email FROM users
----
1  a@x
2  bob@x
3  c@x
4  b@x

# An update into another row's unique value fails.
statement error 23505 duplicate key value violates unique constraint "users_email_key"
INSERT INTO users VALUES (1, 'zz') ON CONFLICT (id) DO UPDATE SET email = 'c@x'

# A conflict on an index other than the arbiter fails.
statement error 23505 duplicate key value violates unique constraint "users_email_key"
INSERT INTO users VALUES (10, 'a@x') ON CONFLICT (id) DO UPDATE SET name = 'n'

statement error 23505
INSERT INTO users VALUES (10, 'a@x') ON CONFLICT (id) DO NOTHING

# Without an arbiter, DO NOTHING skips any conflict.
statement count 0
INSERT INTO users VALUES (10, 'a@x') ON CONFLICT DO NOTHING

# ON CONSTRAINT with a unique constraint.
query IT
INSERT INTO users VALUES (11, 'c@x') ON CONFLICT ON CONSTRAINT users_email_key DO UPDATE SET name = 'via constraint' RETURNING id, name
----
3  via constraint

# A NULL in the arbiter never conflicts.
statement count 2
INSERT INTO users VALUES (12, NULL), (13, NULL) ON CONFLICT (email) DO UPDATE SET name = 'never'

query IT rowsort
SELECT id, name FROM users WHERE email IS NULL
----
12  NULL
13  NULL

# The same unique value proposed twice.
statement error 21000
INSERT INTO users VALUES (20, 'new@x'), (21, 'new@x') ON CONFLICT (email) DO UPDATE SET name = 'twice'

# A composite key, in any column order.
statement ok
CREATE TABLE counts (a INT, b TEXT, c INT NOT NULL, PRIMARY KEY (a, b))

statement ok
INSERT INTO counts VALUES (1, 'x', 1)

statement count 2
INSERT INTO counts VALUES (1, 'x', 1), (1, 'y', 1) ON CONFLICT (b, a) DO UPDATE SET c = counts.c + excluded.c

query ITI
SELECT * FROM counts ORDER BY a, b
----
1  x  2
1  y  1

# INSERT ... SELECT with ON CONFLICT.
statement count 2
INSERT INTO counts SELECT a, b, 10 FROM counts ON CONFLICT (a, b) DO UPDATE SET c = counts.c + excluded.c

query ITI
SELECT * FROM counts ORDER BY a, b
----
1  x  12
1  y  11

# Parameters and expressions in SET.
statement ok
CREATE TABLE hits (page TEXT PRIMARY KEY, n INT NOT NULL, last TEXT)

statement ok
INSERT INTO hits VALUES ('/', 1, 'a') ON CONFLICT (page) DO UPDATE SET n = hits.n + 1, last = excluded.last

statement ok
INSERT INTO hits VALUES ('/', 1, 'b') ON CONFLICT (page) DO UPDATE SET n = hits.n + 1, last = excluded.last

statement ok
INSERT INTO hits VALUES ('/', 1, 'c') ON CONFLICT (page) DO UPDATE SET n = hits.n + 1, last = hits.last || excluded.last

query TIT
SELECT * FROM hits
----
/  3  bc

# Multiple assignments to a column.
statement error 42601
INSERT INTO hits VALUES ('/', 1) ON CONFLICT (page) DO UPDATE SET n = 1, n = 2

# Type errors in SET.
statement error 42804
INSERT INTO hits VALUES ('/', 1) ON CONFLICT (page) DO UPDATE SET n = true

# A table without a primary key: upsert through its unique index.
statement ok
CREATE TABLE nopk (u INT UNIQUE, v INT)

statement ok
INSERT INTO nopk VALUES (1, 1), (2, 2)

query II
INSERT INTO nopk VALUES (1, 10), (3, 30) ON CONFLICT (u) DO UPDATE SET v = excluded.v RETURNING *
----
1  10
3  30

query II
SELECT * FROM nopk ORDER BY u
----
1  10
2  2
3  30

# In a transaction, a row inserted earlier is updated by a later statement.
statement ok
BEGIN

statement ok
INSERT INTO kv VALUES (70, 'seventy')

query IT
INSERT INTO kv VALUES (70, 'again') ON CONFLICT (k) DO UPDATE SET v = kv.v || '+' || excluded.v RETURNING k, v
----
70  seventy+again

statement ok
COMMIT

query IT
SELECT k, v FROM kv WHERE k = 70
----
70  seventy+again
