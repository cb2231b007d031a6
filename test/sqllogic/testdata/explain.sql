# Plans as golden files: EXPLAIN output for what the planner chooses
# (table access through the primary key or a secondary index, joins,
# aggregation, sorting, set operations, subqueries, CTEs), most of them
# next to the same query without EXPLAIN and its checked result, so that a
# plan change shows up here and a wrong plan shows up as a wrong result.
# The EXPLAIN records are Cairn's format (onlyif cairn); the results are
# PostgreSQL's. Hash-partitioned tables are Cairn-only (see
# hash_partition.sql). Where a plan is not yet what it should be (an IN
# list or an ORDER BY ... LIMIT that could use an index), only the result
# is checked here.

statement ok
CREATE TABLE kv (k INT PRIMARY KEY, v TEXT, n INT, f FLOAT8)

statement ok
CREATE INDEX kv_v ON kv (v)

statement ok
CREATE UNIQUE INDEX kv_n ON kv (n)

statement count 20
INSERT INTO kv SELECT g, 'v' || (g % 5), g * 10, g / 2.0 FROM generate_series(1, 20) g

statement ok
INSERT INTO kv VALUES (21, NULL, NULL, NULL)

statement ok
CREATE TABLE ord (cust INT, id INT, amount INT NOT NULL, status TEXT, day DATE, PRIMARY KEY (cust, id))

statement ok
CREATE INDEX ord_status_day ON ord (status, day)

statement ok
CREATE INDEX ord_amount ON ord (amount DESC)

statement count 20
INSERT INTO ord SELECT c, i, (c * 7 + i * 13) % 50 + 1, CASE i % 3 WHEN 0 THEN 'open' WHEN 1 THEN 'shipped' ELSE 'closed' END, DATE '2024-01-01' + i FROM generate_series(1, 4) c, generate_series(1, 5) i

statement ok
CREATE TABLE cust (id INT PRIMARY KEY, name TEXT NOT NULL, region TEXT)

statement count 5
INSERT INTO cust SELECT g, 'c' || g, CASE WHEN g % 2 = 0 THEN 'east' ELSE 'west' END FROM generate_series(1, 5) g

statement ok
CREATE TABLE ev (id INT PRIMARY KEY, dev INT, ts INT, val TEXT)

statement ok
CREATE INDEX ev_dev_ts ON ev (dev, ts DESC)

statement count 30
INSERT INTO ev SELECT g, g % 3, g * 10, 'e' || g FROM generate_series(1, 30) g

# ---------------------------------------------------------------------------
# Full scans

onlyif cairn
query T nosort
EXPLAIN SELECT * FROM kv
----
project k, v, n, f
  -> full scan of kv@kv_pkey

onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE v <> 'v1'
----
project k
  -> filter (v <> 'v1'::text)
    -> full scan of kv@kv_pkey

# a primary key column that is not the first one: no usable prefix
onlyif cairn
query T nosort
EXPLAIN SELECT * FROM ord WHERE id = 3
----
project cust, id, amount, status, day
  -> filter (id = 3)
    -> full scan of ord@ord_pkey

query IIIT nosort
SELECT cust, id, amount, status FROM ord WHERE id = 3 ORDER BY cust
----
1  3  47  open
2  3  4   open
3  3  11  open
4  3  18  open

# ---------------------------------------------------------------------------
# Primary key point lookups

onlyif cairn
query T nosort
EXPLAIN SELECT * FROM kv WHERE k = 7
----
project k, v, n, f
  -> filter (k = 7)
    -> point lookup on kv@kv_pkey: /k = 7

query ITIR nosort
SELECT * FROM kv WHERE k = 7
----
7  v2  70  3.5

onlyif cairn
query T nosort
EXPLAIN SELECT v FROM kv WHERE 7 = k
----
project v
  -> filter (7 = k)
    -> point lookup on kv@kv_pkey: /k = 7

onlyif cairn
query T nosort
EXPLAIN SELECT v FROM kv WHERE k = 2 + 3
----
project v
  -> filter (k = (2 + 3))
    -> point lookup on kv@kv_pkey: /k = (2 + 3)

query T nosort
SELECT v FROM kv WHERE k = 2 + 3
----
v0

# the rest of WHERE filters the row read
onlyif cairn
query T nosort
EXPLAIN SELECT * FROM kv WHERE k = 7 AND v = 'v1'
----
project k, v, n, f
  -> filter ((k = 7) AND (v = 'v1'::text))
    -> point lookup on kv@kv_pkey: /k = 7

query ITIR nosort
SELECT * FROM kv WHERE k = 7 AND v = 'v1'
----

query ITIR nosort
SELECT * FROM kv WHERE k = 7 AND v = 'v2'
----
7  v2  70  3.5

onlyif cairn
query T nosort
EXPLAIN SELECT * FROM kv WHERE k = 1000
----
project k, v, n, f
  -> filter (k = 1000)
    -> point lookup on kv@kv_pkey: /k = 1000

query ITIR nosort
SELECT * FROM kv WHERE k = 1000
----

# composite key, in either order in WHERE
onlyif cairn
query T nosort
EXPLAIN SELECT * FROM ord WHERE cust = 2 AND id = 3
----
project cust, id, amount, status, day
  -> filter ((cust = 2) AND (id = 3))
    -> point lookup on ord@ord_pkey: /cust = 2/id = 3

onlyif cairn
query T nosort
EXPLAIN SELECT * FROM ord WHERE id = 3 AND cust = 2
----
project cust, id, amount, status, day
  -> filter ((id = 3) AND (cust = 2))
    -> point lookup on ord@ord_pkey: /cust = 2/id = 3

query IIITT nosort
SELECT * FROM ord WHERE id = 3 AND cust = 2
----
2  3  4  open  2024-01-04

# a bigint value for an int column is still a key
onlyif cairn
query T nosort
EXPLAIN SELECT v FROM kv WHERE k = 7::bigint
----
project v
  -> filter ((k)::bigint = 7::bigint)
    -> point lookup on kv@kv_pkey: /k = 7::bigint

query T nosort
SELECT v FROM kv WHERE k = 7::bigint
----
v2

# ---------------------------------------------------------------------------
# Primary key prefix and range scans

onlyif cairn
query T nosort
EXPLAIN SELECT * FROM ord WHERE cust = 2
----
project cust, id, amount, status, day
  -> filter (cust = 2)
    -> range scan on ord@ord_pkey: prefix /cust = 2

query IIIT nosort
SELECT cust, id, amount, status FROM ord WHERE cust = 2 ORDER BY id
----
2  1  28  shipped
2  2  41  closed
2  3  4   open
2  4  17  shipped
2  5  30  closed

onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE k < 5
----
project k
  -> filter (k < 5)
    -> range scan on kv@kv_pkey: /k < 5

onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE k <= 5
----
project k
  -> filter (k <= 5)
    -> range scan on kv@kv_pkey: /k <= 5

onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE k > 15
----
project k
  -> filter (k > 15)
    -> range scan on kv@kv_pkey: /k > 15

onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE k >= 15
----
project k
  -> filter (k >= 15)
    -> range scan on kv@kv_pkey: /k >= 15

onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE 15 < k
----
project k
  -> filter (15 < k)
    -> range scan on kv@kv_pkey: /k > 15

query I nosort
SELECT k FROM kv WHERE k < 5 ORDER BY k
----
1
2
3
4

query I nosort
SELECT k FROM kv WHERE k <= 5 ORDER BY k
----
1
2
3
4
5

query I nosort
SELECT k FROM kv WHERE k > 15 ORDER BY k
----
16
17
18
19
20
21

query I nosort
SELECT k FROM kv WHERE k >= 15 ORDER BY k
----
15
16
17
18
19
20
21

onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE k BETWEEN 3 AND 6
----
project k
  -> filter ((k >= 3) AND (k <= 6))
    -> range scan on kv@kv_pkey: /k >= 3/k <= 6

query I nosort
SELECT k FROM kv WHERE k BETWEEN 3 AND 6 ORDER BY k
----
3
4
5
6

onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE k > 3 AND k < 6
----
project k
  -> filter ((k > 3) AND (k < 6))
    -> range scan on kv@kv_pkey: /k > 3/k < 6

query I nosort
SELECT k FROM kv WHERE k > 3 AND k < 6 ORDER BY k
----
4
5

# an empty range
query I nosort
SELECT k FROM kv WHERE k > 6 AND k < 3
----

onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE k NOT BETWEEN 3 AND 18
----
project k
  -> filter ((k < 3) OR (k > 18))
    -> full scan of kv@kv_pkey

query I nosort
SELECT k FROM kv WHERE k NOT BETWEEN 3 AND 18 ORDER BY k
----
1
2
19
20
21

onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE k BETWEEN SYMMETRIC 6 AND 3
----
project k
  -> filter (((k >= 6) AND (k <= 3)) OR ((k >= 3) AND (k <= 6)))
    -> full scan of kv@kv_pkey

query I nosort
SELECT k FROM kv WHERE k BETWEEN SYMMETRIC 6 AND 3 ORDER BY k
----
3
4
5
6

# a range on the second key column under an equality on the first
onlyif cairn
query T nosort
EXPLAIN SELECT * FROM ord WHERE cust = 2 AND id > 3
----
project cust, id, amount, status, day
  -> filter ((cust = 2) AND (id > 3))
    -> range scan on ord@ord_pkey: /cust = 2/id > 3

query II nosort
SELECT cust, id FROM ord WHERE cust = 2 AND id > 3 ORDER BY id
----
2  4
2  5

onlyif cairn
query T nosort
EXPLAIN SELECT * FROM ord WHERE cust = 2 AND id BETWEEN 2 AND 4
----
project cust, id, amount, status, day
  -> filter ((cust = 2) AND (id >= 2) AND (id <= 4))
    -> range scan on ord@ord_pkey: /cust = 2/id >= 2/id <= 4

query II nosort
SELECT cust, id FROM ord WHERE cust = 2 AND id BETWEEN 2 AND 4 ORDER BY id
----
2  2
2  3
2  4

# a range on the first column: the second one cannot narrow the span
onlyif cairn
query T nosort
EXPLAIN SELECT * FROM ord WHERE cust >= 3 AND id = 2
----
project cust, id, amount, status, day
  -> filter ((cust >= 3) AND (id = 2))
    -> range scan on ord@ord_pkey: /cust >= 3

query II nosort
SELECT cust, id FROM ord WHERE cust >= 3 AND id = 2 ORDER BY cust
----
3  2
4  2

# ---------------------------------------------------------------------------
# Descending index columns

onlyif cairn
query T nosort
EXPLAIN SELECT id, ts FROM ev WHERE dev = 1 AND ts > 200
----
project id, ts
  -> filter ((dev = 1) AND (ts > 200))
    -> index lookup on ev@ev_dev_ts: /dev = 1/ts > 200

query II nosort
SELECT id, ts FROM ev WHERE dev = 1 AND ts > 200 ORDER BY ts
----
22  220
25  250
28  280

onlyif cairn
query T nosort
EXPLAIN SELECT id, ts FROM ev WHERE dev = 1 AND ts <= 100
----
project id, ts
  -> filter ((dev = 1) AND (ts <= 100))
    -> index lookup on ev@ev_dev_ts: /dev = 1/ts <= 100

query II nosort
SELECT id, ts FROM ev WHERE dev = 1 AND ts <= 100 ORDER BY ts
----
1   10
4   40
7   70
10  100

onlyif cairn
query T nosort
EXPLAIN SELECT id, ts FROM ev WHERE dev = 2 AND ts BETWEEN 50 AND 140
----
project id, ts
  -> filter ((dev = 2) AND (ts >= 50) AND (ts <= 140))
    -> index lookup on ev@ev_dev_ts: /dev = 2/ts >= 50/ts <= 140

query II nosort
SELECT id, ts FROM ev WHERE dev = 2 AND ts BETWEEN 50 AND 140 ORDER BY ts
----
5   50
8   80
11  110
14  140

onlyif cairn
query T nosort
EXPLAIN SELECT cust, id, amount FROM ord WHERE amount > 40
----
project cust, id, amount
  -> filter (amount > 40)
    -> index lookup on ord@ord_amount: /amount > 40

query III nosort
SELECT cust, id, amount FROM ord WHERE amount > 40 ORDER BY amount, cust, id
----
2  2  41
4  1  42
4  5  44
1  3  47
3  2  48

onlyif cairn
query T nosort
EXPLAIN SELECT cust, id, amount FROM ord WHERE amount < 10
----
project cust, id, amount
  -> filter (amount < 10)
    -> index lookup on ord@ord_amount: /amount < 10

query III nosort
SELECT cust, id, amount FROM ord WHERE amount < 10 ORDER BY amount, cust, id
----
2  3  4
4  2  5

# ---------------------------------------------------------------------------
# Secondary indexes

# non-unique
onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE v = 'v3'
----
project k
  -> filter (v = 'v3'::text)
    -> index lookup on kv@kv_v: /v = 'v3'::text

query I nosort
SELECT k FROM kv WHERE v = 'v3' ORDER BY k
----
3
8
13
18

# unique
onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE n = 50
----
project k
  -> filter (n = 50)
    -> index lookup on kv@kv_n: /n = 50

query I nosort
SELECT k FROM kv WHERE n = 50
----
5

# a unique index fixed entirely wins over a non-unique one
onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE v = 'v0' AND n = 50
----
project k
  -> filter ((v = 'v0'::text) AND (n = 50))
    -> index lookup on kv@kv_n: /n = 50

query I nosort
SELECT k FROM kv WHERE v = 'v0' AND n = 50
----
5

# a range on an index column
onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE n >= 170
----
project k
  -> filter (n >= 170)
    -> index lookup on kv@kv_n: /n >= 170

query I nosort
SELECT k FROM kv WHERE n >= 170 ORDER BY k
----
17
18
19
20

# the primary key wins over an index when it is fixed entirely
onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE n = 50 AND k = 5
----
project k
  -> filter ((n = 50) AND (k = 5))
    -> point lookup on kv@kv_pkey: /k = 5

# multi-column index: a prefix, both columns, a prefix and a range
onlyif cairn
query T nosort
EXPLAIN SELECT cust, id FROM ord WHERE status = 'open'
----
project cust, id
  -> filter (status = 'open'::text)
    -> index lookup on ord@ord_status_day: /status = 'open'::text

query II nosort
SELECT cust, id FROM ord WHERE status = 'open' ORDER BY cust, id
----
1  3
2  3
3  3
4  3

onlyif cairn
query T nosort
EXPLAIN SELECT cust, id FROM ord WHERE status = 'open' AND day = '2024-01-04'
----
project cust, id
  -> filter ((status = 'open'::text) AND (day = '2024-01-04'::date))
    -> index lookup on ord@ord_status_day: /status = 'open'::text/day = '2024-01-04'::date

query II nosort
SELECT cust, id FROM ord WHERE status = 'open' AND day = '2024-01-04' ORDER BY cust, id
----
1  3
2  3
3  3
4  3

onlyif cairn
query T nosort
EXPLAIN SELECT cust, id FROM ord WHERE status = 'shipped' AND day >= '2024-01-03'
----
project cust, id
  -> filter ((status = 'shipped'::text) AND (day >= '2024-01-03'::date))
    -> index lookup on ord@ord_status_day: /status = 'shipped'::text/day >= '2024-01-03'::date

query IIT nosort
SELECT cust, id, day FROM ord WHERE status = 'shipped' AND day >= '2024-01-03' ORDER BY cust, id
----
1  4  2024-01-05
2  4  2024-01-05
3  4  2024-01-05
4  4  2024-01-05

# the second index column alone: no prefix
onlyif cairn
query T nosort
EXPLAIN SELECT cust, id FROM ord WHERE day = '2024-01-04'
----
project cust, id
  -> filter (day = '2024-01-04'::date)
    -> full scan of ord@ord_pkey

# a tie between the primary key's prefix and an index's: the primary key
onlyif cairn
query T nosort
EXPLAIN SELECT id FROM ord WHERE cust = 1 AND status = 'closed'
----
project id
  -> filter ((cust = 1) AND (status = 'closed'::text))
    -> range scan on ord@ord_pkey: prefix /cust = 1

query I nosort
SELECT id FROM ord WHERE cust = 1 AND status = 'closed' ORDER BY id
----
2
5

# more index columns fixed than primary key columns: the index
onlyif cairn
query T nosort
EXPLAIN SELECT id FROM ord WHERE cust = 1 AND status = 'closed' AND day = '2024-01-03'
----
project id
  -> filter ((cust = 1) AND (status = 'closed'::text) AND (day = '2024-01-03'::date))
    -> index lookup on ord@ord_status_day: /status = 'closed'::text/day = '2024-01-03'::date

query I nosort
SELECT id FROM ord WHERE cust = 1 AND status = 'closed' AND day = '2024-01-03'
----
2

# ---------------------------------------------------------------------------
# Where no index can be used

# a function of the column
onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE upper(v) = 'V3'
----
project k
  -> filter (upper(v) = 'V3'::text)
    -> full scan of kv@kv_pkey

query I nosort
SELECT k FROM kv WHERE upper(v) = 'V3' ORDER BY k
----
3
8
13
18

onlyif cairn
query T nosort
EXPLAIN SELECT v FROM kv WHERE k + 1 = 8
----
project v
  -> filter ((k + 1) = 8)
    -> full scan of kv@kv_pkey

onlyif cairn
query T nosort
EXPLAIN SELECT v FROM kv WHERE k::text = '7'
----
project v
  -> filter ((k)::text = '7'::text)
    -> full scan of kv@kv_pkey

query T nosort
SELECT v FROM kv WHERE k::text = '7'
----
v2

# OR
onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE k = 3 OR k = 4
----
project k
  -> filter ((k = 3) OR (k = 4))
    -> full scan of kv@kv_pkey

query I nosort
SELECT k FROM kv WHERE k = 3 OR k = 4 ORDER BY k
----
3
4

onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE v = 'v1' OR n = 20
----
project k
  -> filter ((v = 'v1'::text) OR (n = 20))
    -> full scan of kv@kv_pkey

query I nosort
SELECT k FROM kv WHERE v = 'v1' OR n = 20 ORDER BY k
----
1
2
6
11
16

# IN lists (results only)
query I nosort
SELECT k FROM kv WHERE k IN (3, 4, 99) ORDER BY k
----
3
4

# a comparison in a type whose values are not all keys of the column
onlyif cairn
query T nosort
EXPLAIN SELECT v FROM kv WHERE k = 7.0
----
project v
  -> filter ((k)::numeric = 7.0)
    -> full scan of kv@kv_pkey

query T nosort
SELECT v FROM kv WHERE k = 7.0
----
v2

query T nosort
SELECT v FROM kv WHERE k = 7.5
----

onlyif cairn
query T nosort
EXPLAIN SELECT v FROM kv WHERE k = 7::float8
----
project v
  -> filter ((k)::double precision = 7::double precision)
    -> full scan of kv@kv_pkey

query I nosort
SELECT k FROM kv WHERE k < 3.5 ORDER BY k
----
1
2
3

# a date column compared as a timestamp: only the index's first column
onlyif cairn
query T nosort
EXPLAIN SELECT cust, id FROM ord WHERE status = 'open' AND day = '2024-01-04'::timestamp
----
project cust, id
  -> filter ((status = 'open'::text) AND ((day)::timestamp without time zone = '2024-01-04 00:00:00'::timestamp without time zone))
    -> index lookup on ord@ord_status_day: /status = 'open'::text

query II nosort
SELECT cust, id FROM ord WHERE status = 'open' AND day = '2024-01-04'::timestamp ORDER BY cust
----
1  3
2  3
3  3
4  3

# a string literal for an int column is an int
onlyif cairn
query T nosort
EXPLAIN SELECT v FROM kv WHERE k = '7'
----
project v
  -> filter (k = 7)
    -> point lookup on kv@kv_pkey: /k = 7

# varchar against a text column
onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE v = 'v4'::varchar
----
project k
  -> filter (v = 'v4'::text)
    -> index lookup on kv@kv_v: /v = 'v4'::text

query I nosort
SELECT k FROM kv WHERE v = 'v4'::varchar ORDER BY k
----
4
9
14
19

# an int8 value out of the column's range: no key, no row
query T nosort
SELECT v FROM kv WHERE k = 3000000000
----

query I nosort
SELECT count(*) FROM kv WHERE k < 3000000000
----
21

# NULL comparisons: a NULL key matches nothing, nothing is read; IS NULL
# is not a key (results only)
onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE k = NULL
----
project k
  -> filter (k = NULL::integer)
    -> point lookup on kv@kv_pkey: /k = NULL::integer

query I nosort
SELECT k FROM kv WHERE k = NULL
----

query I nosort
SELECT k FROM kv WHERE v IS NULL
----
21

onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE n IS NOT NULL AND k > 18
----
project k
  -> filter ((n IS NOT NULL) AND (k > 18))
    -> range scan on kv@kv_pkey: /k > 18

query I nosort
SELECT k FROM kv WHERE n IS NOT NULL AND k > 18 ORDER BY k
----
19
20

# a NULL bound: the span is empty, nothing is read
onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE n < NULL
----
project k
  -> filter (n < NULL::integer)
    -> index lookup on kv@kv_n: /n < NULL::integer

query I nosort
SELECT k FROM kv WHERE n < NULL
----

# ---------------------------------------------------------------------------
# Hash-partitioned tables (Cairn: a hash-sharded primary key)

onlyif cairn
statement ok
CREATE TABLE hp (id INT PRIMARY KEY, v TEXT) PARTITION BY HASH (id) WITH (buckets = 4)

onlyif cairn
statement ok
CREATE INDEX hp_v ON hp (v)

onlyif cairn
statement count 30
INSERT INTO hp SELECT g, 'h' || (g % 4) FROM generate_series(1, 30) g

onlyif cairn
statement ok
CREATE TABLE hp2 (a INT, b INT, c TEXT, PRIMARY KEY (a, b)) PARTITION BY HASH (b) WITH (buckets = 8)

onlyif cairn
statement count 20
INSERT INTO hp2 SELECT a, b, a || '-' || b FROM generate_series(1, 4) a, generate_series(1, 5) b

onlyif cairn
query T nosort
EXPLAIN SELECT * FROM hp
----
project id, v
  -> full scan of hp@hp_pkey (4 hash buckets)

onlyif cairn
query T nosort
EXPLAIN SELECT * FROM hp WHERE id = 5
----
project id, v
  -> filter (id = 5)
    -> point lookup on hp@hp_pkey: /id = 5 (hash bucket of id)

onlyif cairn
query IT nosort
SELECT * FROM hp WHERE id = 5
----
5  h1

onlyif cairn
query T nosort
EXPLAIN SELECT * FROM hp WHERE id > 25
----
project id, v
  -> filter (id > 25)
    -> range scan on hp@hp_pkey: /id > 25 (4 spans: one per hash bucket)

onlyif cairn
query IT nosort
SELECT * FROM hp WHERE id > 25 ORDER BY id
----
26  h2
27  h3
28  h0
29  h1
30  h2

onlyif cairn
query T nosort
EXPLAIN SELECT * FROM hp WHERE id BETWEEN 10 AND 12
----
project id, v
  -> filter ((id >= 10) AND (id <= 12))
    -> range scan on hp@hp_pkey: /id >= 10/id <= 12 (4 spans: one per hash bucket)

onlyif cairn
query IT nosort
SELECT * FROM hp WHERE id BETWEEN 10 AND 12 ORDER BY id
----
10  h2
11  h3
12  h0

onlyif cairn
query T nosort
EXPLAIN SELECT id FROM hp WHERE v = 'h2'
----
project id
  -> filter (v = 'h2'::text)
    -> index lookup on hp@hp_v: /v = 'h2'::text

onlyif cairn
query I nosort
SELECT id FROM hp WHERE v = 'h2' ORDER BY id
----
2
6
10
14
18
22
26
30

# hashed on the second key column: a prefix without it reads every bucket
onlyif cairn
query T nosort
EXPLAIN SELECT * FROM hp2 WHERE a = 2
----
project a, b, c
  -> filter (a = 2)
    -> range scan on hp2@hp2_pkey: prefix /a = 2 (8 spans: one per hash bucket)

onlyif cairn
query IIT nosort
SELECT * FROM hp2 WHERE a = 2 ORDER BY b
----
2  1  2-1
2  2  2-2
2  3  2-3
2  4  2-4
2  5  2-5

onlyif cairn
query T nosort
EXPLAIN SELECT * FROM hp2 WHERE a = 2 AND b = 3
----
project a, b, c
  -> filter ((a = 2) AND (b = 3))
    -> point lookup on hp2@hp2_pkey: /a = 2/b = 3 (hash bucket of b)

onlyif cairn
query IIT nosort
SELECT * FROM hp2 WHERE a = 2 AND b = 3
----
2  3  2-3

onlyif cairn
query T nosort
EXPLAIN SELECT * FROM hp2 WHERE a = 2 AND b >= 4
----
project a, b, c
  -> filter ((a = 2) AND (b >= 4))
    -> range scan on hp2@hp2_pkey: /a = 2/b >= 4 (8 spans: one per hash bucket)

onlyif cairn
query IIT nosort
SELECT * FROM hp2 WHERE a = 2 AND b >= 4 ORDER BY b
----
2  4  2-4
2  5  2-5

onlyif cairn
query T nosort
EXPLAIN SELECT * FROM hp2 WHERE a > 3
----
project a, b, c
  -> filter (a > 3)
    -> range scan on hp2@hp2_pkey: /a > 3 (8 spans: one per hash bucket)

onlyif cairn
query IIT nosort
SELECT * FROM hp2 WHERE a > 3 ORDER BY b
----
4  1  4-1
4  2  4-2
4  3  4-3
4  4  4-4
4  5  4-5

onlyif cairn
query T nosort
EXPLAIN SELECT id FROM hp WHERE v = 'h1' AND id < 10
----
project id
  -> filter ((v = 'h1'::text) AND (id < 10))
    -> index lookup on hp@hp_v: /v = 'h1'::text

onlyif cairn
query I nosort
SELECT id FROM hp WHERE v = 'h1' AND id < 10 ORDER BY id
----
1
5
9

onlyif cairn
query T nosort
EXPLAIN SELECT v, count(*) FROM hp GROUP BY v ORDER BY v
----
sort (in memory) by v
  -> project v, count(*)
    -> aggregate (hash)
      -> full scan of hp@hp_pkey (4 hash buckets)

onlyif cairn
query TI nosort
SELECT v, count(*) FROM hp GROUP BY v ORDER BY v
----
h0  7
h1  8
h2  8
h3  7

onlyif cairn
query T nosort
EXPLAIN SELECT hp.id, hp2.c FROM hp JOIN hp2 ON hp2.b = hp.id WHERE hp.id = 3
----
project hp.id, hp2.c
  -> hash join (inner) on (hp2.b = hp.id)
    -> filter (hp.id = 3)
      -> point lookup on hp@hp_pkey: /id = 3 (hash bucket of id)
    -> filter (hp2.b = 3)
      -> full scan of hp2@hp2_pkey (8 hash buckets)

onlyif cairn
query IT nosort
SELECT hp.id, hp2.c FROM hp JOIN hp2 ON hp2.b = hp.id WHERE hp.id = 3 ORDER BY hp2.c
----
3  1-3
3  2-3
3  3-3
3  4-3

# ---------------------------------------------------------------------------
# Joins

onlyif cairn
query T nosort
EXPLAIN SELECT c.name, o.id FROM cust c JOIN ord o ON c.id = o.cust
----
project c.name, o.id
  -> hash join (inner) on (c.id = o.cust)
    -> full scan of cust@cust_pkey
    -> full scan of ord@ord_pkey

onlyif cairn
query T nosort
EXPLAIN SELECT c.name, o.id FROM cust c, ord o WHERE c.id = o.cust AND c.region = 'east' AND o.status = 'open'
----
project c.name, o.id
  -> hash join (inner) on (c.id = o.cust)
    -> filter (c.region = 'east'::text)
      -> full scan of cust@cust_pkey
    -> filter (o.status = 'open'::text)
      -> index lookup on ord@ord_status_day: /status = 'open'::text

query TI nosort
SELECT c.name, o.id FROM cust c, ord o WHERE c.id = o.cust AND c.region = 'east' AND o.status = 'open' ORDER BY 1, 2
----
c2  3
c4  3

# an equality with a constant carries over the join key
onlyif cairn
query T nosort
EXPLAIN SELECT c.name, o.id FROM cust c JOIN ord o ON c.id = o.cust WHERE c.id = 3
----
project c.name, o.id
  -> hash join (inner) on (c.id = o.cust)
    -> filter (c.id = 3)
      -> point lookup on cust@cust_pkey: /id = 3
    -> filter (o.cust = 3)
      -> range scan on ord@ord_pkey: prefix /cust = 3

query TI nosort
SELECT c.name, o.id FROM cust c JOIN ord o ON c.id = o.cust WHERE c.id = 3 ORDER BY o.id
----
c3  1
c3  2
c3  3
c3  4
c3  5

# two join keys
onlyif cairn
query T nosort
EXPLAIN SELECT count(*) FROM ord a JOIN ord b ON a.cust = b.cust AND a.id = b.id + 1
----
project count(*)
  -> aggregate (hash)
    -> hash join (inner) on (a.cust = b.cust) AND (a.id = (b.id + 1))
      -> full scan of ord@ord_pkey
      -> full scan of ord@ord_pkey

query I nosort
SELECT count(*) FROM ord a JOIN ord b ON a.cust = b.cust AND a.id = b.id + 1
----
16

# an equality and a residual condition
onlyif cairn
query T nosort
EXPLAIN SELECT a.id, b.id FROM ord a JOIN ord b ON a.cust = b.cust AND a.amount < b.amount WHERE a.cust = 1
----
project a.id, b.id
  -> hash join (inner) on (a.cust = b.cust), filter (a.amount < b.amount)
    -> filter (a.cust = 1)
      -> range scan on ord@ord_pkey: prefix /cust = 1
    -> filter (b.cust = 1)
      -> range scan on ord@ord_pkey: prefix /cust = 1

query II nosort
SELECT a.id, b.id FROM ord a JOIN ord b ON a.cust = b.cust AND a.amount < b.amount WHERE a.cust = 1 ORDER BY 1, 2
----
1  2
1  3
1  5
2  3
4  1
4  2
4  3
4  5
5  2
5  3

# non-equi joins: nested loops
onlyif cairn
query T nosort
EXPLAIN SELECT c.id, k.k FROM cust c JOIN kv k ON k.k BETWEEN c.id * 4 AND c.id * 4 + 1
----
project c.id, k.k
  -> nested loop join (inner) on ((k.k >= (c.id * 4)) AND (k.k <= ((c.id * 4) + 1)))
    -> full scan of cust@cust_pkey
    -> full scan of kv@kv_pkey

query II nosort
SELECT c.id, k.k FROM cust c JOIN kv k ON k.k BETWEEN c.id * 4 AND c.id * 4 + 1 ORDER BY 1, 2
----
1  4
1  5
2  8
2  9
3  12
3  13
4  16
4  17
5  20
5  21

onlyif cairn
query T nosort
EXPLAIN SELECT c.id, o.id FROM cust c JOIN ord o ON c.id = o.cust OR c.id = o.id WHERE c.id = 5
----
project c.id, o.id
  -> nested loop join (inner) on ((c.id = o.cust) OR (c.id = o.id))
    -> filter (c.id = 5)
      -> point lookup on cust@cust_pkey: /id = 5
    -> full scan of ord@ord_pkey

query II nosort
SELECT c.id, o.cust FROM cust c JOIN ord o ON c.id = o.cust OR c.id = o.id WHERE c.id = 5 ORDER BY 2
----
5  1
5  2
5  3
5  4

onlyif cairn
query T nosort
EXPLAIN SELECT count(*) FROM cust CROSS JOIN ev
----
project count(*)
  -> aggregate (hash)
    -> nested loop join (cross)
      -> full scan of cust@cust_pkey
      -> full scan of ev@ev_pkey

# an equality between an int and a numeric column
onlyif cairn
query T nosort
EXPLAIN SELECT count(*) FROM kv JOIN (SELECT amount::numeric AS a FROM ord) s ON kv.k = s.a
----
project count(*)
  -> aggregate (hash)
    -> hash join (inner) on ((kv.k)::numeric = s.a)
      -> full scan of kv@kv_pkey
      -> subquery s
        -> project (amount)::numeric
          -> full scan of ord@ord_pkey

query I nosort
SELECT count(*) FROM kv JOIN (SELECT amount::numeric AS a FROM ord) s ON kv.k = s.a
----
7

# an equality between an int and a bigint column
onlyif cairn
query T nosort
EXPLAIN SELECT count(*) FROM kv JOIN (SELECT amount::bigint AS a FROM ord) s ON kv.k = s.a
----
project count(*)
  -> aggregate (hash)
    -> hash join (inner) on ((kv.k)::bigint = s.a)
      -> full scan of kv@kv_pkey
      -> subquery s
        -> project (amount)::bigint
          -> full scan of ord@ord_pkey

query I nosort
SELECT count(*) FROM kv JOIN (SELECT amount::bigint AS a FROM ord) s ON kv.k = s.a
----
7

# outer joins: an ON condition of the nullable side filters that side
onlyif cairn
query T nosort
EXPLAIN SELECT c.id, o.id FROM cust c LEFT JOIN ord o ON c.id = o.cust AND o.status = 'open'
----
project c.id, o.id
  -> hash join (left) on (c.id = o.cust)
    -> full scan of cust@cust_pkey
    -> filter (o.status = 'open'::text)
      -> index lookup on ord@ord_status_day: /status = 'open'::text

query II nosort
SELECT c.id, o.id FROM cust c LEFT JOIN ord o ON c.id = o.cust AND o.status = 'open' ORDER BY 1, 2
----
1  3
2  3
3  3
4  3
5  NULL

# a WHERE condition on the nullable side stays above the join
onlyif cairn
query T nosort
EXPLAIN SELECT c.id, o.id FROM cust c LEFT JOIN ord o ON c.id = o.cust WHERE o.id IS NULL
----
project c.id, o.id
  -> filter (o.id IS NULL)
    -> hash join (left) on (c.id = o.cust)
      -> full scan of cust@cust_pkey
      -> full scan of ord@ord_pkey

query II nosort
SELECT c.id, o.id FROM cust c LEFT JOIN ord o ON c.id = o.cust WHERE o.id IS NULL ORDER BY 1
----
5  NULL

# a WHERE condition on the preserved side goes below the join, and its
# equality carries over the join key into the nullable side
onlyif cairn
query T nosort
EXPLAIN SELECT c.id, o.id FROM cust c LEFT JOIN ord o ON c.id = o.cust WHERE c.id = 4
----
project c.id, o.id
  -> hash join (left) on (c.id = o.cust)
    -> filter (c.id = 4)
      -> point lookup on cust@cust_pkey: /id = 4
    -> filter (o.cust = 4)
      -> range scan on ord@ord_pkey: prefix /cust = 4

query II nosort
SELECT c.id, o.id FROM cust c LEFT JOIN ord o ON c.id = o.cust WHERE c.id = 4 ORDER BY 2
----
4  1
4  2
4  3
4  4
4  5

query II nosort
SELECT c.id, o.id FROM cust c LEFT JOIN ord o ON c.id = o.cust WHERE c.id = 4 AND o.id = 2
----
4  2

onlyif cairn
query T nosort
EXPLAIN SELECT o.id, c.name FROM ord o RIGHT JOIN cust c ON c.id = o.cust AND o.id = 1 WHERE c.region = 'west'
----
project o.id, c.name
  -> hash join (right) on (c.id = o.cust)
    -> filter (o.id = 1)
      -> full scan of ord@ord_pkey
    -> filter (c.region = 'west'::text)
      -> full scan of cust@cust_pkey

query IT nosort
SELECT o.id, c.name FROM ord o RIGHT JOIN cust c ON c.id = o.cust AND o.id = 1 WHERE c.region = 'west' ORDER BY 2
----
1     c1
1     c3
NULL  c5

onlyif cairn
query T nosort
EXPLAIN SELECT c.id, e.id FROM cust c FULL JOIN ev e ON c.id = e.id - 27 WHERE e.dev = 0 OR c.id = 1
----
project c.id, e.id
  -> filter ((e.dev = 0) OR (c.id = 1))
    -> hash join (full) on (c.id = (e.id - 27))
      -> full scan of cust@cust_pkey
      -> full scan of ev@ev_pkey

query II nosort
SELECT c.id, e.id FROM cust c FULL JOIN ev e ON c.id = e.id - 27 WHERE e.dev = 0 OR c.id = 1 ORDER BY 2, 1
----
NULL  3
NULL  6
NULL  9
NULL  12
NULL  15
NULL  18
NULL  21
NULL  24
NULL  27
1     28
3     30

onlyif cairn
query T nosort
EXPLAIN SELECT * FROM cust LEFT JOIN ord ON true WHERE cust.id > 4
----
project cust.id, cust.name, cust.region, ord.cust, ord.id, ord.amount, ord.status, ord.day
  -> nested loop join (left) on true
    -> filter (cust.id > 4)
      -> range scan on cust@cust_pkey: /id > 4
    -> full scan of ord@ord_pkey

onlyif cairn
query T nosort
EXPLAIN SELECT id, name, amount FROM cust JOIN (SELECT cust AS id, amount FROM ord) o USING (id) WHERE name = 'c3'
----
project id, name, amount
  -> hash join (inner) on (cust.id = o.id)
    -> filter (name = 'c3'::text)
      -> full scan of cust@cust_pkey
    -> subquery o
      -> project cust, amount
        -> full scan of ord@ord_pkey

query ITI nosort
SELECT id, name, amount FROM cust JOIN (SELECT cust AS id, amount FROM ord) o USING (id) WHERE name = 'c3' ORDER BY 1, 3
----
3  c3  11
3  c3  24
3  c3  35
3  c3  37
3  c3  48

# three tables
onlyif cairn
query T nosort
EXPLAIN SELECT c.name, o.id, k.v FROM cust c JOIN ord o ON o.cust = c.id JOIN kv k ON k.n = o.amount WHERE c.region = 'east'
----
project c.name, o.id, k.v
  -> hash join (inner) on (k.n = o.amount)
    -> hash join (inner) on (o.cust = c.id)
      -> filter (c.region = 'east'::text)
        -> full scan of cust@cust_pkey
      -> full scan of ord@ord_pkey
    -> full scan of kv@kv_pkey

query TIT nosort
SELECT c.name, o.id, k.v FROM cust c JOIN ord o ON o.cust = c.id JOIN kv k ON k.n = o.amount WHERE c.region = 'east' ORDER BY 1, 2
----
c2  5  v3

# ---------------------------------------------------------------------------
# Aggregation, DISTINCT, sorting, LIMIT

onlyif cairn
query T nosort
EXPLAIN SELECT v, count(*), sum(n) FROM kv GROUP BY v
----
project v, count(*), sum(n)
  -> aggregate (hash)
    -> full scan of kv@kv_pkey

query TII nosort
SELECT v, count(*), sum(n) FROM kv GROUP BY v ORDER BY v
----
v0    4  500
v1    4  340
v2    4  380
v3    4  420
v4    4  460
NULL  1  NULL

onlyif cairn
query T nosort
EXPLAIN SELECT status, max(amount) FROM ord WHERE cust = 2 GROUP BY status HAVING count(*) > 1 ORDER BY status
----
sort (in memory) by status
  -> project status, max(amount)
    -> filter (HAVING) (count(*) > 1::bigint)
      -> aggregate (hash)
        -> filter (cust = 2)
          -> range scan on ord@ord_pkey: prefix /cust = 2

query TI nosort
SELECT status, max(amount) FROM ord WHERE cust = 2 GROUP BY status HAVING count(*) > 1 ORDER BY status
----
closed   41
shipped  28

onlyif cairn
query T nosort
EXPLAIN SELECT count(*) FROM kv WHERE k < 10
----
project count(*)
  -> aggregate (hash)
    -> filter (k < 10)
      -> range scan on kv@kv_pkey: /k < 10

query I nosort
SELECT count(*) FROM kv WHERE k < 10
----
9

onlyif cairn
query T nosort
EXPLAIN SELECT DISTINCT status FROM ord
----
distinct (hash)
  -> project status
    -> full scan of ord@ord_pkey

query T nosort
SELECT DISTINCT status FROM ord ORDER BY 1
----
closed
open
shipped

onlyif cairn
query T nosort
EXPLAIN SELECT DISTINCT ON (cust) cust, id FROM ord ORDER BY cust, id DESC
----
sort (in memory) by cust, id DESC
  -> distinct (hash)
    -> project cust, id
      -> full scan of ord@ord_pkey

query II nosort
SELECT DISTINCT ON (cust) cust, id FROM ord ORDER BY cust, id DESC
----
1  5
2  5
3  5
4  5

onlyif cairn
query T nosort
EXPLAIN SELECT DISTINCT v FROM kv WHERE n > 150
----
distinct (hash)
  -> project v
    -> filter (n > 150)
      -> index lookup on kv@kv_n: /n > 150

query T nosort
SELECT DISTINCT v FROM kv WHERE n > 150 ORDER BY 1
----
v0
v1
v2
v3
v4

onlyif cairn
query T nosort
EXPLAIN SELECT c.region, count(*), sum(o.amount) FROM cust c JOIN ord o ON o.cust = c.id GROUP BY c.region ORDER BY 1
----
sort (in memory) by c.region
  -> project c.region, count(*), sum(o.amount)
    -> aggregate (hash)
      -> hash join (inner) on (o.cust = c.id)
        -> full scan of cust@cust_pkey
        -> full scan of ord@ord_pkey

query TII nosort
SELECT c.region, count(*), sum(o.amount) FROM cust c JOIN ord o ON o.cust = c.id GROUP BY c.region ORDER BY 1
----
east  10  260
west  10  290

onlyif cairn
query T nosort
EXPLAIN SELECT count(DISTINCT v) FROM kv
----
project count(DISTINCT v)
  -> aggregate (hash)
    -> full scan of kv@kv_pkey

query I nosort
SELECT count(DISTINCT v) FROM kv
----
5

query I nosort
SELECT k FROM kv ORDER BY k LIMIT 3
----
1
2
3

onlyif cairn
query T nosort
EXPLAIN SELECT k, f FROM kv ORDER BY f DESC, k LIMIT 3
----
limit (count 3::bigint, offset none)
  -> sort (in memory) by f DESC, k
    -> project k, f
      -> full scan of kv@kv_pkey

query IR nosort
SELECT k, f FROM kv ORDER BY f DESC, k LIMIT 3
----
21  NULL
20  10
19  9.5

onlyif cairn
query T nosort
EXPLAIN SELECT k, n FROM kv WHERE v = 'v1' ORDER BY n DESC LIMIT 2 OFFSET 1
----
limit (count 2::bigint, offset 1::bigint)
  -> sort (in memory) by n DESC
    -> project k, n
      -> filter (v = 'v1'::text)
        -> index lookup on kv@kv_v: /v = 'v1'::text

query II nosort
SELECT k, n FROM kv WHERE v = 'v1' ORDER BY n DESC LIMIT 2 OFFSET 1
----
11  110
6   60

onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv LIMIT 2
----
limit (count 2::bigint, offset none)
  -> project k
    -> full scan of kv@kv_pkey

# ---------------------------------------------------------------------------
# Set operations

onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE k < 3 UNION SELECT id FROM cust WHERE id = 4
----
project k
  -> union
    -> project k
      -> filter (k < 3)
        -> range scan on kv@kv_pkey: /k < 3
    -> project id
      -> filter (id = 4)
        -> point lookup on cust@cust_pkey: /id = 4

query I nosort
SELECT k FROM kv WHERE k < 3 UNION SELECT id FROM cust WHERE id = 4 ORDER BY 1
----
1
2
4

onlyif cairn
query T nosort
EXPLAIN SELECT cust FROM ord UNION ALL SELECT id FROM cust ORDER BY 1 LIMIT 3
----
limit (count 3::bigint, offset none)
  -> sort (in memory) by cust
    -> project cust
      -> union all
        -> project cust
          -> full scan of ord@ord_pkey
        -> project id
          -> full scan of cust@cust_pkey

query I nosort
SELECT cust FROM ord UNION ALL SELECT id FROM cust ORDER BY 1 LIMIT 3
----
1
1
1

onlyif cairn
query T nosort
EXPLAIN SELECT id FROM cust INTERSECT SELECT cust FROM ord WHERE amount > 30
----
project id
  -> intersect
    -> project id
      -> full scan of cust@cust_pkey
    -> project cust
      -> filter (amount > 30)
        -> index lookup on ord@ord_amount: /amount > 30

query I nosort
SELECT id FROM cust INTERSECT SELECT cust FROM ord WHERE amount > 30 ORDER BY 1
----
1
2
3
4

onlyif cairn
query T nosort
EXPLAIN SELECT id FROM cust EXCEPT ALL SELECT k FROM kv WHERE k > 3
----
project id
  -> except all
    -> project id
      -> full scan of cust@cust_pkey
    -> project k
      -> filter (k > 3)
        -> range scan on kv@kv_pkey: /k > 3

query I nosort
SELECT id FROM cust EXCEPT ALL SELECT k FROM kv WHERE k > 3 ORDER BY 1
----
1
2
3

onlyif cairn
query T nosort
EXPLAIN SELECT u.x, c.name FROM (SELECT k AS x FROM kv WHERE k <= 2 UNION ALL SELECT id FROM cust WHERE id = 5) u JOIN cust c ON c.id = u.x
----
project u.x, c.name
  -> hash join (inner) on (c.id = u.x)
    -> subquery u
      -> project x
        -> union all
          -> project k
            -> filter (k <= 2)
              -> range scan on kv@kv_pkey: /k <= 2
          -> project id
            -> filter (id = 5)
              -> point lookup on cust@cust_pkey: /id = 5
    -> full scan of cust@cust_pkey

query IT nosort
SELECT u.x, c.name FROM (SELECT k AS x FROM kv WHERE k <= 2 UNION ALL SELECT id FROM cust WHERE id = 5) u JOIN cust c ON c.id = u.x ORDER BY 1
----
1  c1
2  c2
5  c5

onlyif cairn
query T nosort
EXPLAIN SELECT id FROM cust EXCEPT SELECT cust FROM ord
----
project id
  -> except
    -> project id
      -> full scan of cust@cust_pkey
    -> project cust
      -> full scan of ord@ord_pkey

query I nosort
SELECT id FROM cust EXCEPT SELECT cust FROM ord
----
5

# ---------------------------------------------------------------------------
# Subqueries

# IN and NOT IN (results only)
query T nosort
SELECT name FROM cust WHERE id IN (SELECT cust FROM ord WHERE amount > 45) ORDER BY 1
----
c1
c3

query T nosort
SELECT name FROM cust c WHERE id IN (SELECT o.cust FROM ord o WHERE o.cust = c.id AND o.amount > 45) ORDER BY 1
----
c1
c3

query T nosort
SELECT name FROM cust WHERE id NOT IN (SELECT cust FROM ord)
----
c5

# a correlated subquery runs per outer row, its outer values as keys
onlyif cairn
query T nosort
EXPLAIN SELECT name FROM cust c WHERE EXISTS (SELECT 1 FROM ord o WHERE o.cust = c.id AND o.status = 'open')
----
project name
  -> filter EXISTS(SubPlan)
    -> full scan of cust@cust_pkey
  -> subplan EXISTS(SubPlan) (runs per row)
    -> project 1
      -> filter ((o.cust = c.id) AND (o.status = 'open'::text))
        -> range scan on ord@ord_pkey: prefix /cust = c.id

query T nosort
SELECT name FROM cust c WHERE EXISTS (SELECT 1 FROM ord o WHERE o.cust = c.id AND o.status = 'open') ORDER BY 1
----
c1
c2
c3
c4

onlyif cairn
query T nosort
EXPLAIN SELECT c.name, (SELECT max(amount) FROM ord o WHERE o.cust = c.id) FROM cust c
----
project c.name, (SubPlan)
  -> full scan of cust@cust_pkey
  -> subplan (SubPlan) (runs per row)
    -> project max(amount)
      -> aggregate (hash)
        -> filter (o.cust = c.id)
          -> range scan on ord@ord_pkey: prefix /cust = c.id

query TI nosort
SELECT c.name, (SELECT max(amount) FROM ord o WHERE o.cust = c.id) FROM cust c ORDER BY 1
----
c1  47
c2  41
c3  48
c4  44
c5  NULL

# an uncorrelated scalar subquery runs once: its value is a key
onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE k = (SELECT max(cust) FROM ord)
----
project k
  -> filter (k = (SubPlan))
    -> point lookup on kv@kv_pkey: /k = (SubPlan)
  -> subplan (SubPlan) (runs once)
    -> project max(cust)
      -> aggregate (hash)
        -> full scan of ord@ord_pkey

query I nosort
SELECT k FROM kv WHERE k = (SELECT max(cust) FROM ord)
----
4

onlyif cairn
query T nosort
EXPLAIN SELECT c.name, o.id FROM cust c JOIN ord o ON o.cust = c.id WHERE c.id = (SELECT min(cust) + 1 FROM ord) AND o.id < 3
----
project c.name, o.id
  -> hash join (inner) on (o.cust = c.id)
    -> filter (c.id = (SubPlan))
      -> point lookup on cust@cust_pkey: /id = (SubPlan)
    -> filter ((o.id < 3) AND (o.cust = (SubPlan)))
      -> range scan on ord@ord_pkey: /cust = (SubPlan)/id < 3
  -> subplan (SubPlan) (runs once)
    -> project (min(cust) + 1)
      -> aggregate (hash)
        -> full scan of ord@ord_pkey

query TI nosort
SELECT c.name, o.id FROM cust c JOIN ord o ON o.cust = c.id WHERE c.id = (SELECT min(cust) + 1 FROM ord) AND o.id < 3 ORDER BY 2
----
c2  1
c2  2

# nested correlated subqueries, each with its outer values as keys
onlyif cairn
query T nosort
EXPLAIN SELECT c.id, (SELECT min(o.amount) FROM ord o WHERE o.cust = c.id AND o.id = (SELECT max(o2.id) FROM ord o2 WHERE o2.cust = o.cust AND o2.status = 'shipped')) FROM cust c
----
project c.id, (SubPlan)
  -> full scan of cust@cust_pkey
  -> subplan (SubPlan) (runs per row)
    -> project min(o.amount)
      -> aggregate (hash)
        -> filter ((o.cust = c.id) AND (o.id = (SubPlan)))
          -> range scan on ord@ord_pkey: prefix /cust = c.id
      -> subplan (SubPlan) (runs per row)
        -> project max(o2.id)
          -> aggregate (hash)
            -> filter ((o2.cust = o.cust) AND (o2.status = 'shipped'::text))
              -> range scan on ord@ord_pkey: prefix /cust = o.cust

query II nosort
SELECT c.id, (SELECT min(o.amount) FROM ord o WHERE o.cust = c.id AND o.id = (SELECT max(o2.id) FROM ord o2 WHERE o2.cust = o.cust AND o2.status = 'shipped')) FROM cust c ORDER BY 1
----
1  10
2  17
3  24
4  31
5  NULL

# more correlated subqueries whose outer values are keys
query II nosort
SELECT o.cust, o.id FROM ord o WHERE o.amount = (SELECT max(o2.amount) FROM ord o2 WHERE o2.cust = o.cust) ORDER BY 1
----
1  3
2  2
3  2
4  5

query I nosort
SELECT c.id FROM cust c WHERE NOT EXISTS (SELECT 1 FROM ord o JOIN kv k ON k.k = o.id WHERE o.cust = c.id AND k.n > c.id * 10) ORDER BY 1
----
5

query IT nosort
SELECT c.id, (SELECT string_agg(o.id::text, ',' ORDER BY o.id) FROM ord o WHERE o.cust = c.id AND o.id > (SELECT count(*) FROM cust c2 WHERE c2.id < c.id)) FROM cust c ORDER BY 1
----
1  1,2,3,4,5
2  2,3,4,5
3  3,4,5
4  4,5
5  NULL

query II nosort
SELECT c.id, (SELECT count(*) FROM kv k WHERE k.k BETWEEN c.id AND c.id + 2 AND k.v IS NOT NULL) FROM cust c ORDER BY 1
----
1  3
2  3
3  3
4  3
5  3

# a scalar subquery as a key still fails on a second row
statement error 21000
SELECT k FROM kv WHERE k = (SELECT cust FROM ord)

# a correlated subquery in a join's condition
query II nosort
SELECT c.id, k.k FROM cust c JOIN kv k ON k.k = c.id AND k.n > (SELECT min(amount) FROM ord o WHERE o.cust = c.id) ORDER BY 1
----
2  2
3  3
4  4

onlyif cairn
query T nosort
EXPLAIN SELECT s.cust, s.total FROM (SELECT cust, sum(amount) AS total FROM ord GROUP BY cust) s WHERE s.total > 100
----
project s.cust, s.total
  -> filter (s.total > 100::bigint)
    -> subquery s
      -> project cust, sum(amount)
        -> aggregate (hash)
          -> full scan of ord@ord_pkey

query II nosort
SELECT s.cust, s.total FROM (SELECT cust, sum(amount) AS total FROM ord GROUP BY cust) s WHERE s.total > 100 ORDER BY 1
----
1  135
2  120
3  155
4  140

# ---------------------------------------------------------------------------
# CTEs

# referenced once: inlined
onlyif cairn
query T nosort
EXPLAIN WITH big AS (SELECT * FROM ord WHERE amount > 40) SELECT cust, id FROM big
----
project cust, id
  -> subquery big
    -> project cust, id, amount, status, day
      -> filter (amount > 40)
        -> index lookup on ord@ord_amount: /amount > 40

query II nosort
WITH big AS (SELECT * FROM ord WHERE amount > 40) SELECT cust, id FROM big ORDER BY cust, id
----
1  3
2  2
3  2
4  1
4  5

onlyif cairn
query T nosort
EXPLAIN WITH big AS MATERIALIZED (SELECT * FROM ord WHERE amount > 40) SELECT cust, id FROM big WHERE cust = 2
----
project cust, id
  -> cte big (materialized)
    -> project cust, id, amount, status, day
      -> filter (amount > 40)
        -> index lookup on ord@ord_amount: /amount > 40
  -> filter (cust = 2)
    -> subquery big
      -> cte scan big (materialized)

# referenced twice: materialized
onlyif cairn
query T nosort
EXPLAIN WITH t AS (SELECT cust, count(*) AS n FROM ord GROUP BY cust) SELECT a.cust, b.n FROM t a JOIN t b ON a.cust = b.cust + 1
----
project a.cust, b.n
  -> cte t (materialized)
    -> project cust, count(*)
      -> aggregate (hash)
        -> full scan of ord@ord_pkey
  -> hash join (inner) on (a.cust = (b.cust + 1))
    -> subquery a
      -> cte scan t (materialized)
    -> subquery b
      -> cte scan t (materialized)

query II nosort
WITH t AS (SELECT cust, count(*) AS n FROM ord GROUP BY cust) SELECT a.cust, b.n FROM t a JOIN t b ON a.cust = b.cust + 1 ORDER BY 1
----
2  5
3  5
4  5

onlyif cairn
query T nosort
EXPLAIN WITH t AS NOT MATERIALIZED (SELECT id FROM cust WHERE region = 'east') SELECT * FROM t a, t b WHERE a.id < b.id
----
project a.id, b.id
  -> nested loop join (inner) on (a.id < b.id)
    -> subquery a
      -> project id
        -> filter (region = 'east'::text)
          -> full scan of cust@cust_pkey
    -> subquery b
      -> project id
        -> filter (region = 'east'::text)
          -> full scan of cust@cust_pkey

query II nosort
WITH t AS NOT MATERIALIZED (SELECT id FROM cust WHERE region = 'east') SELECT * FROM t a, t b WHERE a.id < b.id
----
2  4

onlyif cairn
query T nosort
EXPLAIN WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 4) SELECT kv.k, kv.v FROM r JOIN kv ON kv.k = r.n
----
project kv.k, kv.v
  -> hash join (inner) on (kv.k = r.n)
    -> subquery r
      -> recursive union all r
        -> project 1
          -> one row (no FROM)
        -> project (n + 1)
          -> filter (n < 4)
            -> subquery r
              -> working table scan r
    -> full scan of kv@kv_pkey

query IT nosort
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 4) SELECT kv.k, kv.v FROM r JOIN kv ON kv.k = r.n ORDER BY 1
----
1  v1
2  v2
3  v3
4  v4

# ---------------------------------------------------------------------------
# Other sources and statements

onlyif cairn
query T nosort
EXPLAIN SELECT g FROM generate_series(1, 3) g WHERE g > 1
----
project g
  -> filter (g > 1)
    -> function scan generate_series

onlyif cairn
query T nosort
EXPLAIN SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v (x, y) WHERE x = 2
----
project v.x, v.y
  -> filter (x = 2)
    -> subquery v
      -> project column1, column2
        -> values (2 rows)

onlyif cairn
query T nosort
EXPLAIN SELECT 1 + 1
----
project (1 + 1)
  -> one row (no FROM)

# FOR UPDATE / FOR SHARE lock the rows the access reads
onlyif cairn
query T nosort
EXPLAIN SELECT * FROM kv WHERE k = 3 FOR UPDATE
----
project k, v, n, f
  -> filter (k = 3)
    -> point lookup on kv@kv_pkey: /k = 3 (locking)

onlyif cairn
query T nosort
EXPLAIN SELECT c.name FROM cust c JOIN ord o ON o.cust = c.id WHERE o.id = 1 AND o.cust = 2 FOR UPDATE OF c
----
project c.name
  -> hash join (inner) on (o.cust = c.id)
    -> filter (c.id = 2)
      -> point lookup on cust@cust_pkey: /id = 2 (locking)
    -> filter ((o.id = 1) AND (o.cust = 2))
      -> point lookup on ord@ord_pkey: /cust = 2/id = 1

onlyif cairn
query T nosort
EXPLAIN SELECT k FROM kv WHERE v = 'v2' FOR SHARE
----
project k
  -> filter (v = 'v2'::text)
    -> index lookup on kv@kv_v: /v = 'v2'::text (locking)

query ITIR nosort
SELECT * FROM kv WHERE k = 3 FOR UPDATE
----
3  v3  30  1.5

# EXPLAIN is for SELECT only so far
onlyif cairn
statement error 0A000
EXPLAIN UPDATE kv SET v = 'x' WHERE k = 3

onlyif cairn
statement error 0A000
EXPLAIN DELETE FROM kv WHERE k = 3

onlyif cairn
statement error 0A000
EXPLAIN INSERT INTO kv VALUES (3, 'x', NULL, NULL) ON CONFLICT (k) DO UPDATE SET v = excluded.v

# IN lists and = ANY(array) as access paths: one key per value when the
# list completes the primary key, else one span per value.
statement ok
CREATE TABLE inl (a INT, b INT, c TEXT, PRIMARY KEY (a, b))

statement ok
CREATE INDEX inl_c ON inl (c)

statement ok
INSERT INTO inl SELECT g / 10, g % 10, 'c' || (g % 7)::text FROM generate_series(0, 199) g

onlyif cairn
query T nosort
EXPLAIN SELECT * FROM inl WHERE a = 3 AND b IN (1, 5, 9)
----
project a, b, c
  -> filter ((a = 3) AND (b IN (1, 5, 9)))
    -> point lookups on inl@inl_pkey: /a = 3/b IN ARRAY[1, 5, 9]

query IIT rowsort
SELECT * FROM inl WHERE a = 3 AND b IN (1, 5, 9, 5, NULL, 42)
----
3  1  c3
3  5  c0
3  9  c4

onlyif cairn
query T nosort
EXPLAIN SELECT * FROM inl WHERE a IN (2, 7)
----
project a, b, c
  -> filter (a IN (2, 7))
    -> range scans on inl@inl_pkey: prefix /a IN ARRAY[2, 7], the spans of each value

query I
SELECT count(*) FROM inl WHERE a IN (2, 7, 2, 1000)
----
20

onlyif cairn
query T nosort
EXPLAIN SELECT a, b FROM inl WHERE c IN ('c1', 'c6')
----
project a, b
  -> filter (c IN ('c1'::text, 'c6'::text))
    -> index lookup on inl@inl_c: /c IN ARRAY['c1'::text, 'c6'::text], one span per value

query I
SELECT count(*) FROM inl WHERE c IN ('c1', 'c6', 'nope')
----
57

query I
SELECT count(*) FROM inl WHERE a = ANY (ARRAY[1, 2, 3])
----
30

query I
SELECT count(*) FROM inl WHERE a IN (1.5, 2)
----
10

query I
SELECT count(*) FROM inl WHERE a NOT IN (1, 2)
----
180

query I
SELECT count(*) FROM inl WHERE a = ANY (NULL::int[])
----
0

statement ok
CREATE TABLE inh (id INT PRIMARY KEY, v TEXT) PARTITION BY HASH (id) WITH (buckets = 4)

statement ok
INSERT INTO inh SELECT g, 'v' || g::text FROM generate_series(1, 50) g

query IT rowsort
SELECT * FROM inh WHERE id IN (3, 17, 49, 51)
----
17  v17
3   v3
49  v49

# ORDER BY the leading primary key columns, ascending: the scan reads in
# that order, so there is no sort (and LIMIT stops the scan).
onlyif cairn
query T nosort
EXPLAIN SELECT a, b FROM inl ORDER BY a, b LIMIT 3
----
limit (count 3::bigint, offset none)
  -> no sort: the scan reads in primary key order
    -> project a, b
      -> full scan of inl@inl_pkey

query II nosort
SELECT a, b FROM inl ORDER BY a, b LIMIT 3 OFFSET 11
----
1  1
1  2
1  3

query II nosort
SELECT a, b FROM inl WHERE a >= 18 ORDER BY a LIMIT 2
----
18  0
18  1

onlyif cairn
query T nosort
EXPLAIN SELECT a, b FROM inl ORDER BY a DESC LIMIT 3
----
limit (count 3::bigint, offset none)
  -> sort (in memory) by a DESC
    -> project a, b
      -> full scan of inl@inl_pkey

query II nosort
SELECT a, b FROM inl ORDER BY a DESC, b DESC LIMIT 2
----
19  9
19  8

onlyif cairn
query T nosort
EXPLAIN SELECT id FROM inh ORDER BY id LIMIT 3
----
limit (count 3::bigint, offset none)
  -> sort (in memory) by id
    -> project id
      -> full scan of inh@inh_pkey (4 hash buckets)

query I nosort
SELECT id FROM inh ORDER BY id LIMIT 3
----
1
2
3

statement ok
BEGIN

statement ok
INSERT INTO inl VALUES (-1, 0, 'new'), (0, -5, 'new')

query IIT nosort
SELECT * FROM inl ORDER BY a, b LIMIT 3
----
-1  0   new
0   -5  new
0   0   c0

statement ok
ROLLBACK

# An IN list on the first key column of a table hashed on the second: one
# span per value and bucket.
statement ok
CREATE TABLE inhp (a INT, b INT, PRIMARY KEY (a, b)) PARTITION BY HASH (b) WITH (buckets = 4)

statement ok
INSERT INTO inhp SELECT g / 10, g % 10 FROM generate_series(0, 99) g

query I
SELECT count(*) FROM inhp WHERE a IN (1, 3, 3, 42)
----
20

onlyif cairn
query T nosort
EXPLAIN SELECT * FROM inhp WHERE a IN (1, 3)
----
project a, b
  -> filter (a IN (1, 3))
    -> range scans on inhp@inhp_pkey: prefix /a IN ARRAY[1, 3], the spans of each value
