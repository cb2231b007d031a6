# PARTITION BY HASH (col) in Cairn is a hash-sharded primary key: every row
# is stored under a hash bucket of col (a primary key column), so that
# sequential keys spread over ranges. PostgreSQL creates a partitioned
# parent table instead (which needs PARTITION OF children to hold rows),
# so every record here is Cairn-only.

onlyif cairn
statement ok
CREATE TABLE h (id INT PRIMARY KEY, v TEXT, n INT) PARTITION BY HASH (id)

onlyif cairn
statement ok
CREATE INDEX h_v ON h (v)

onlyif cairn
statement count 40
INSERT INTO h SELECT g, 'v' || (g % 5), g * 10 FROM generate_series(1, 40) g

onlyif cairn
query I
SELECT count(*) FROM h
----
40

# point lookup by the full primary key: the bucket is computed
onlyif cairn
query ITI
SELECT id, v, n FROM h WHERE id = 17
----
17  v2  170

onlyif cairn
query T
EXPLAIN SELECT * FROM h WHERE id = 17
----
project id, v, n
  -> filter (id = 17)
    -> point lookup on h@h_pkey: /id = 17 (hash bucket of id)

onlyif cairn
query I
SELECT id FROM h WHERE id = 1000
----

# range scans read the range in every bucket; ORDER BY sorts across them
onlyif cairn
query I
SELECT id FROM h WHERE id > 35 ORDER BY id
----
36
37
38
39
40

onlyif cairn
query I
SELECT id FROM h WHERE id BETWEEN 3 AND 7 ORDER BY id DESC
----
7
6
5
4
3

onlyif cairn
query I
SELECT id FROM h WHERE id < 4 ORDER BY id
----
1
2
3

onlyif cairn
query T
EXPLAIN SELECT * FROM h WHERE id > 35
----
project id, v, n
  -> filter (id > 35)
    -> range scan on h@h_pkey: /id > 35 (16 spans: one per hash bucket)

onlyif cairn
query I
SELECT id FROM h ORDER BY id LIMIT 3
----
1
2
3

onlyif cairn
query T
EXPLAIN SELECT * FROM h
----
project id, v, n
  -> full scan of h@h_pkey (16 hash buckets)

# secondary index
onlyif cairn
query I
SELECT id FROM h WHERE v = 'v3' ORDER BY id
----
3
8
13
18
23
28
33
38

# UPDATE and DELETE, by key, by range and through the index
onlyif cairn
statement count 1
UPDATE h SET n = -1 WHERE id = 5

onlyif cairn
statement count 5
UPDATE h SET v = 'w' WHERE id > 35

onlyif cairn
query I
SELECT id FROM h WHERE v = 'w' ORDER BY id
----
36
37
38
39
40

onlyif cairn
statement count 7
DELETE FROM h WHERE v = 'v3'

onlyif cairn
statement count 2
DELETE FROM h WHERE id <= 3

onlyif cairn
query II
SELECT count(*), sum(n) FROM h
----
31  6859

onlyif cairn
query I
SELECT n FROM h WHERE id = 5
----
-1

# updating the primary key moves the row to the bucket of its new value
onlyif cairn
statement count 1
UPDATE h SET id = 1005 WHERE id = 5

onlyif cairn
query II rowsort
SELECT id, n FROM h WHERE id IN (5, 1005)
----
1005  -1

onlyif cairn
query I
SELECT id FROM h WHERE id = 1005
----
1005

# unique violations and ON CONFLICT DO NOTHING
onlyif cairn
statement error 23505 duplicate key value
INSERT INTO h VALUES (10, 'x', 0)

onlyif cairn
statement count 1
INSERT INTO h VALUES (10, 'x', 0), (2, 'y', 0) ON CONFLICT DO NOTHING

onlyif cairn
query IT
SELECT id, v FROM h WHERE id IN (2, 10) ORDER BY id
----
2   y
10  v0

# TRUNCATE keeps the partitioning
onlyif cairn
statement ok
TRUNCATE h

onlyif cairn
query I
SELECT count(*) FROM h
----
0

onlyif cairn
statement count 3
INSERT INTO h VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3)

onlyif cairn
query IT
SELECT id, v FROM h WHERE id >= 2 ORDER BY id
----
2  b
3  c

# composite primary key, hash on the second column; WITH (buckets = n)
onlyif cairn
statement ok
CREATE TABLE c (a INT, b INT, x TEXT, PRIMARY KEY (a, b)) PARTITION BY HASH (b) WITH (buckets = 4)

onlyif cairn
statement count 20
INSERT INTO c SELECT g / 10, g % 10, 'x' || g FROM generate_series(0, 19) g

onlyif cairn
query IIT
SELECT a, b, x FROM c WHERE a = 1 AND b = 3
----
1  3  x13

onlyif cairn
query II
SELECT a, b FROM c WHERE a = 1 AND b >= 7 ORDER BY b
----
1  7
1  8
1  9

onlyif cairn
query T
EXPLAIN SELECT * FROM c WHERE a = 1 AND b >= 7
----
project a, b, x
  -> filter ((a = 1) AND (b >= 7))
    -> range scan on c@c_pkey: /a = 1/b >= 7 (4 spans: one per hash bucket)

onlyif cairn
query I
SELECT count(*) FROM c WHERE a = 0
----
10

# hash on the first column of a composite key: a prefix fixes the bucket
onlyif cairn
statement ok
CREATE TABLE d (a INT, b INT, PRIMARY KEY (a, b)) PARTITION BY HASH (a) WITH (buckets = 8)

onlyif cairn
statement count 6
INSERT INTO d VALUES (1, 1), (1, 2), (1, 3), (2, 1), (2, 5), (3, 0)

onlyif cairn
query II
SELECT a, b FROM d WHERE a = 1 AND b > 1 ORDER BY b
----
1  2
1  3

onlyif cairn
query T
EXPLAIN SELECT * FROM d WHERE a = 2
----
project a, b
  -> filter (a = 2)
    -> range scan on d@d_pkey: prefix /a = 2 (hash bucket of a)

onlyif cairn
query II
SELECT a, b FROM d WHERE a = 2 ORDER BY b
----
2  1
2  5

# text keys, and the session default for the bucket count
onlyif cairn
statement ok
SET hash_partition_buckets = 3

onlyif cairn
statement ok
CREATE TABLE s (k TEXT PRIMARY KEY, v INT) PARTITION BY HASH (k)

onlyif cairn
statement ok
RESET hash_partition_buckets

onlyif cairn
statement count 4
INSERT INTO s VALUES ('apple', 1), ('banana', 2), ('cherry', 3), ('date', 4)

onlyif cairn
query TI
SELECT k, v FROM s WHERE k > 'b' ORDER BY k
----
banana  2
cherry  3
date    4

onlyif cairn
query T
EXPLAIN SELECT * FROM s WHERE k < 'c'
----
project k, v
  -> filter (k < 'c'::text)
    -> range scan on s@s_pkey: /k < 'c'::text (3 spans: one per hash bucket)

# joins and aggregates over partitioned tables
onlyif cairn
query IT
SELECT d.a, s.k FROM d JOIN s ON d.b = s.v WHERE d.a = 1 ORDER BY d.b
----
1  apple
1  banana
1  cherry

# SERIAL keys, a UNIQUE constraint, ON CONFLICT on it, and a join whose
# equality on the hash column carries over to the partitioned table
onlyif cairn
statement ok
CREATE TABLE u (id SERIAL PRIMARY KEY, e TEXT UNIQUE, n INT) PARTITION BY HASH (id) WITH (buckets = 5)

onlyif cairn
statement count 3
INSERT INTO u (e, n) VALUES ('a', 1), ('b', 2), ('c', 3)

onlyif cairn
statement error 23505 duplicate key value
INSERT INTO u (e, n) VALUES ('b', 20)

onlyif cairn
statement count 1
INSERT INTO u (e, n) VALUES ('b', 20), ('d', 4) ON CONFLICT DO NOTHING

onlyif cairn
query ITI
SELECT id, e, n FROM u ORDER BY id
----
1  a  1
2  b  2
3  c  3
6  d  4

onlyif cairn
query IT
SELECT u.id, s.k FROM s JOIN u ON u.id = s.v WHERE s.k < 'd' ORDER BY u.id
----
1  apple
2  banana
3  cherry

onlyif cairn
query T
EXPLAIN SELECT * FROM u WHERE e = 'c'
----
project id, e, n
  -> filter (e = 'c'::text)
    -> index lookup on u@u_e_key: /e = 'c'::text

onlyif cairn
statement count 1
UPDATE u SET n = n + 100 WHERE e = 'c'

onlyif cairn
query I
SELECT n FROM u WHERE id = 3
----
103

# errors
onlyif cairn
statement error 42P16 must be a column of the primary key
CREATE TABLE e1 (id INT PRIMARY KEY, x INT) PARTITION BY HASH (x)

onlyif cairn
statement error 42P16 must be a column of the primary key
CREATE TABLE e2 (x INT) PARTITION BY HASH (x)

onlyif cairn
statement error 42703 does not exist
CREATE TABLE e3 (id INT PRIMARY KEY) PARTITION BY HASH (nope)

onlyif cairn
statement error 0A000 PARTITION BY RANGE is not supported
CREATE TABLE e4 (id INT PRIMARY KEY) PARTITION BY RANGE (id)

onlyif cairn
statement error 0A000 PARTITION BY LIST is not supported
CREATE TABLE e5 (id INT PRIMARY KEY) PARTITION BY LIST (id)

onlyif cairn
statement error 0A000 expression
CREATE TABLE e6 (id INT PRIMARY KEY) PARTITION BY HASH ((id + 1))

onlyif cairn
statement error 0A000 exactly one
CREATE TABLE e7 (a INT, b INT, PRIMARY KEY (a, b)) PARTITION BY HASH (a, b)

onlyif cairn
statement error 22023 buckets
CREATE TABLE e8 (id INT PRIMARY KEY) PARTITION BY HASH (id) WITH (buckets = 0)

onlyif cairn
statement error 22023 buckets
CREATE TABLE e9 (id INT PRIMARY KEY) PARTITION BY HASH (id) WITH (buckets = 5000)

onlyif cairn
statement error 22023 requires PARTITION BY HASH
CREATE TABLE e10 (id INT PRIMARY KEY) WITH (buckets = 4)

onlyif cairn
statement error 22023 hash_partition_buckets
SET hash_partition_buckets = 0

onlyif cairn
query I
SELECT count(*) FROM pg_class WHERE relname LIKE 'e%' AND relkind = 'r'
----
0
