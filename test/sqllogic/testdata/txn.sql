# Transactions: BEGIN/COMMIT/ROLLBACK, visibility to other sessions, failed
# transaction blocks (25P02).

statement ok
CREATE TABLE acct (id INT PRIMARY KEY, bal INT NOT NULL CHECK (bal >= 0))

statement ok
INSERT INTO acct VALUES (1, 100), (2, 50)

# Committed writes are visible to the transaction itself and, after COMMIT,
# to others.
statement ok
BEGIN

statement ok
UPDATE acct SET bal = bal - 30 WHERE id = 1

statement ok
UPDATE acct SET bal = bal + 30 WHERE id = 2

query II
SELECT * FROM acct ORDER BY id
----
1  70
2  80

statement ok
COMMIT

connection other

query II
SELECT * FROM acct ORDER BY id
----
1  70
2  80

connection default

# ROLLBACK undoes everything since BEGIN.
statement ok
BEGIN

statement ok
INSERT INTO acct VALUES (3, 7)

statement ok
DELETE FROM acct WHERE id = 1

query II
SELECT * FROM acct ORDER BY id
----
2  80
3  7

statement ok
ROLLBACK

query II
SELECT * FROM acct ORDER BY id
----
1  70
2  80

# START TRANSACTION and END, COMMIT WORK, ROLLBACK WORK are synonyms.
statement ok
START TRANSACTION

statement ok
INSERT INTO acct VALUES (3, 3)

statement ok
END

statement ok
BEGIN WORK

statement ok
INSERT INTO acct VALUES (4, 4)

statement ok
ROLLBACK WORK

query II
SELECT * FROM acct ORDER BY id
----
1  70
2  80
3  3

# An error in a transaction block aborts it: further statements fail with
# 25P02 until ROLLBACK, and nothing of the transaction is kept.
statement ok
BEGIN

statement ok
INSERT INTO acct VALUES (5, 5)

statement error 23514
UPDATE acct SET bal = bal - 1000 WHERE id = 1

statement error 25P02 current transaction is aborted
SELECT * FROM acct

statement error 25P02
INSERT INTO acct VALUES (6, 6)

statement ok
ROLLBACK

query II
SELECT * FROM acct ORDER BY id
----
1  70
2  80
3  3

# COMMIT of a failed transaction rolls it back.
statement ok
BEGIN

statement ok
INSERT INTO acct VALUES (7, 7)

statement error 22012
SELECT 1 / 0

statement ok
COMMIT

query II
SELECT * FROM acct WHERE id = 7
----

# A failed statement outside a block leaves no trace and no open block.
statement error 23505
INSERT INTO acct VALUES (8, 8), (1, 1)

query II
SELECT * FROM acct WHERE id = 8
----

# A unique violation inside a block aborts it too.
statement ok
BEGIN

statement error 23505
INSERT INTO acct VALUES (1, 1)

statement error 25P02
SELECT 1

statement ok
ROLLBACK

# DDL in a transaction.
statement ok
BEGIN

statement ok
CREATE TABLE tmp (a INT PRIMARY KEY)

statement ok
INSERT INTO tmp VALUES (1)

query I
SELECT a FROM tmp
----
1

statement ok
ROLLBACK

statement error 42P01
SELECT a FROM tmp

statement ok
BEGIN

statement ok
CREATE TABLE tmp (a INT PRIMARY KEY)

statement ok
INSERT INTO tmp VALUES (2)

statement ok
COMMIT

query I
SELECT a FROM tmp
----
2

# Isolation levels are accepted.
statement ok
BEGIN ISOLATION LEVEL SERIALIZABLE

query T
SHOW transaction_isolation
----
serializable

statement ok
COMMIT

statement ok
BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ

query T
SHOW transaction_isolation
----
repeatable read

statement ok
COMMIT

statement ok
BEGIN ISOLATION LEVEL READ COMMITTED

statement ok
UPDATE acct SET bal = bal + 1 WHERE id = 2

statement ok
COMMIT

query II
SELECT * FROM acct ORDER BY id
----
1  70
2  81
3  3

# A write committed by another session is seen by the next statement.
connection other

statement ok
INSERT INTO acct VALUES (10, 10)

connection default

query II
SELECT * FROM acct WHERE id = 10
----
10  10

# COMMIT and ROLLBACK outside a block only warn.
statement ok
COMMIT

statement ok
ROLLBACK

# A second BEGIN inside a block only warns.
statement ok
BEGIN

statement ok
BEGIN

statement ok
COMMIT

# SET TRANSACTION inside a block.
statement ok
BEGIN

statement ok
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ

query T
SHOW transaction_isolation
----
repeatable read

statement ok
COMMIT

# A write committed by another session is visible; updates from both
# sessions apply in order.
connection other

statement ok
UPDATE acct SET bal = bal + 100 WHERE id = 10

connection default

statement ok
UPDATE acct SET bal = bal * 2 WHERE id = 10

connection other

query II
SELECT * FROM acct WHERE id = 10
----
10  220

connection default

# Uncommitted writes are invisible to other sessions; they see the last
# committed value without waiting.
statement ok
BEGIN

statement ok
INSERT INTO acct VALUES (40, 40)

statement ok
UPDATE acct SET bal = 0 WHERE id = 2

connection other

query II
SELECT * FROM acct WHERE id IN (2, 40) ORDER BY id
----
2  81

connection default

statement ok
ROLLBACK

connection other

query II
SELECT * FROM acct WHERE id IN (2, 40) ORDER BY id
----
2  81

connection default

statement ok
BEGIN

statement ok
INSERT INTO acct VALUES (41, 41)

connection other

query II
SELECT * FROM acct WHERE id = 41
----

connection default

statement ok
COMMIT

connection other

query II
SELECT * FROM acct WHERE id = 41
----
41  41

connection default
