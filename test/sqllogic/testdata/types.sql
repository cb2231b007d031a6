# Types: literals, text output, casts and their errors, and storage
# through tables.

# BOOL
query BBBBBB
SELECT true, false, 't'::bool, 'yes'::bool, 'off'::bool, '0'::bool
----
t  f  t  t  f  f

query TT
SELECT true::text, 1::bool::text
----
true  true

statement error 22P02
SELECT 'maybe'::bool

query BBB
SELECT true > false, NOT false, true = 't'
----
t  t  t

# Integers: ranges, overflow, arithmetic.
query III
SELECT 32767::int2, 2147483647::int4, 9223372036854775807::int8
----
32767  2147483647  9223372036854775807

query III
SELECT (-32768)::int2, (-2147483648)::int4, (-9223372036854775808)::int8
----
-32768  -2147483648  -9223372036854775808

statement error 22003 smallint out of range
SELECT 32768::int2

statement error 22003 integer out of range
SELECT 2147483648::int4

statement error 22003
SELECT 9223372036854775808::int8

statement error 22003 integer out of range
SELECT 2147483647::int4 + 1

statement error 22003 bigint out of range
SELECT 9223372036854775807 + 1

statement error 22003
SELECT (-9223372036854775808)::int8 * -1

statement error 22003
SELECT 4611686018427387904 * 2

query T
SELECT pg_typeof(1)::text
----
integer

query T
SELECT pg_typeof(2147483648)::text
----
bigint

query T
SELECT pg_typeof(1::int2 + 1::int2)::text
----
smallint

query T
SELECT pg_typeof(1.5)::text
----
numeric

query III
SELECT ' 42 '::int, '-7'::int8, '+3'::int2
----
42  -7  3

statement error 22P02 invalid input syntax for type integer
SELECT '4x'::int

statement error 22P02
SELECT ''::int

statement error 22P02
SELECT '1.5'::int

query III
SELECT 1.5::int, 2.5::int, (-2.5)::int
----
2  3  -3

query II
SELECT 1.4999::int8, '3.7'::float8::int
----
1  4

query I
SELECT 7 / 2 * 2
----
6

# Floats
query RRR
SELECT 1.5::float8, 0.1::float4, 1e300::float8 * 10
----
1.5  0.1  1e+301

query RR
SELECT 0.1::float8 + 0.2::float8, 1::float8 / 3
----
0.30000000000000004  0.3333333333333333

query RRR
SELECT 'NaN'::float8, 'Infinity'::float8, '-inf'::float8
----
NaN  Infinity  -Infinity

query RRR
SELECT 3.0::float8, -0.0::float8, 1e-5::float8
----
3  -0  1e-05

query RR
SELECT 123456789012345678::float8, 1e16::float8
----
1.2345678901234568e+17  1e+16

statement error 22P02
SELECT 'abc'::float8

statement error 22003
SELECT 1e400::float8

statement error 22003
SELECT 1e39::float4

query II
SELECT 2.5::float8::int4, 3.5::float8::int4
----
2  4

query R
SELECT 1.0e2::float4
----
100

# NUMERIC: exact arithmetic, typmod rounding, overflow.
query R
SELECT 0.1 + 0.2
----
0.3

query R
SELECT 1.10 + 2.205
----
3.305

query R
SELECT 12345678901234567890.123456789 * 10
----
123456789012345678901.234567890

query R
SELECT 1 / 3.0
----
0.33333333333333333333

query R
SELECT 2.000 * 3.00
----
6.00000

query R
SELECT 10.5 - 0.5
----
10.0

query RR
SELECT 1.005::numeric(5,2), 1.004::numeric(5,2)
----
1.01  1.00

query RR
SELECT (-1.005)::numeric(5,2), 123.4::numeric(6,3)
----
-1.01  123.400

query R
SELECT 99.995::numeric(5,2)::text::numeric
----
100.00

statement error 22003
SELECT 999.995::numeric(5,2)

statement error 22003
SELECT 1000::numeric(5,2)

query RR
SELECT 5::numeric(10,0), 5.5::numeric(10,0)
----
5  6

query RRR
SELECT 'NaN'::numeric, '1e3'::numeric, ' 1.50 '::numeric
----
NaN  1000  1.50

statement error 22P02
SELECT '1.2.3'::numeric

statement error 22012
SELECT 1.0 / 0

query R
SELECT 7.5 % 2
----
1.5

query RR
SELECT round(2.5), round(-2.5)
----
3  -3

query RR
SELECT round(1.23456, 2), trunc(1.999, 1)
----
1.23  1.9

statement ok
CREATE TABLE money (id INT PRIMARY KEY, amt NUMERIC(10,2))

statement ok
INSERT INTO money VALUES (1, 0.1), (2, 0.2), (3, 1.005), (4, 99999999.994)

query IR
SELECT id, amt FROM money ORDER BY id
----
1  0.10
2  0.20
3  1.01
4  99999999.99

query R
SELECT amt * 3 FROM money WHERE id = 1
----
0.30

statement error 22003
INSERT INTO money VALUES (5, 100000000)

statement ok
DROP TABLE money

# TEXT, VARCHAR(n), CHAR(n)
query TTT
SELECT 'abc', 'it''s', E'tab\there'
----
abc  it's  tab\there

query T
SELECT 'abc'::varchar(2)
----
ab

query IB
SELECT length('ab'::char(4)), 'ab'::char(4) = 'ab'
----
2  t


query T
SELECT 'abcdef'::char(3)
----
abc

query B
SELECT 'ab'::char(4) = 'ab  '::char(4)
----
t

statement ok
CREATE TABLE s (id INT PRIMARY KEY, v VARCHAR(3), c CHAR(3), t TEXT)

statement ok
INSERT INTO s VALUES (1, 'abc', 'ab', 'anything at all')

statement error 22001 value too long for type character varying\(3\)
INSERT INTO s VALUES (2, 'abcd', 'a', '')

statement error 22001 value too long for type character\(3\)
INSERT INTO s VALUES (3, 'a', 'abcd', '')

# Trailing spaces beyond the length are trimmed, not an error.
statement ok
INSERT INTO s VALUES (4, 'ab   ', 'x  ', '')

query ITIT
SELECT id, v || '|', length(c), t FROM s ORDER BY id
----
1  abc|  2  anything at all
4  ab |  1  ·

query IT
SELECT id, c FROM s WHERE c = 'ab' ORDER BY id
----
1  ab

statement error 22001
UPDATE s SET v = 'toolong' WHERE id = 1

statement ok
DROP TABLE s

# CHAR(n) padding is not significant and is dropped when the value becomes text.
query TT
SELECT 'ab'::char(4) || '|', 'x'::char(3)::text || '|'
----
ab|  x|

statement ok
CREATE TABLE chars (id INT PRIMARY KEY, c CHAR(3))

statement ok
INSERT INTO chars VALUES (1, 'ab'), (2, 'x  ')

query IT
SELECT id, c || '|' FROM chars ORDER BY id
----
1  ab|
2  x|

query I
SELECT id FROM chars WHERE c = 'x' AND c = 'x  '
----
2

# BYTEA
query T
SELECT '\x68656c6c6f'::bytea
----
\x68656c6c6f

query T
SELECT 'hello'::bytea
----
\x68656c6c6f

query T
SELECT 'a\\b'::bytea
----
\x615c62

query I
SELECT length('\xdeadbeef'::bytea)
----
4

statement error 22023
SELECT '\xzz'::bytea

# DATE
query T
SELECT '2024-02-29'::date
----
2024-02-29

query TT
SELECT '2024-03-01'::date - 1, '2023-12-31'::date + 1
----
2024-02-29  2024-01-01

query I
SELECT '2024-03-01'::date - '2024-01-01'::date
----
60

statement error 22008
SELECT '2023-02-29'::date

statement error 22007
SELECT 'not a date'::date

query BB
SELECT '2024-01-01'::date < '2024-01-02'::date, 'infinity'::date > '9999-12-31'::date
----
t  t

# TIMESTAMP and TIMESTAMPTZ (the session time zone is UTC)
statement ok
SET TIME ZONE 'UTC'

query T
SELECT '2024-01-02 03:04:05'::timestamp
----
2024-01-02 03:04:05

query T
SELECT '2024-01-02 03:04:05.123456'::timestamp
----
2024-01-02 03:04:05.123456

query T
SELECT '2024-01-02 03:04:05.1234567'::timestamp
----
2024-01-02 03:04:05.123457

query T
SELECT '2024-01-02T03:04:05'::timestamp
----
2024-01-02 03:04:05

query T
SELECT '2024-01-02 03:04:05+02'::timestamptz
----
2024-01-02 01:04:05+00

query T
SELECT '2024-01-02'::timestamptz
----
2024-01-02 00:00:00+00

query T
SELECT '2024-01-02 03:04:05'::timestamp(0) + '0.6 seconds'::interval
----
2024-01-02 03:04:05.6

query T
SELECT '2024-01-02 03:04:05.56'::timestamp(1)
----
2024-01-02 03:04:05.6

query T
SELECT '2024-01-31'::timestamp + '1 month'::interval
----
2024-02-29 00:00:00

query T
SELECT '2024-01-02 03:04:05'::timestamp - '2024-01-01 00:00:00'::timestamp
----
1 day 03:04:05

query T
SELECT '2024-01-02 03:04:05'::timestamp::date
----
2024-01-02

query T
SELECT '2024-01-02'::date::timestamp
----
2024-01-02 00:00:00

query T
SELECT '2024-06-01 12:00:00+00'::timestamptz::timestamp
----
2024-06-01 12:00:00

statement error 22008
SELECT '2024-01-02 25:00:00'::timestamp

statement error 22007
SELECT 'yesterday-ish'::timestamp

# INTERVAL
query T
SELECT '1 day 2 hours'::interval
----
1 day 02:00:00

query T
SELECT '90 minutes'::interval
----
01:30:00

query T
SELECT '1 year 2 months 3 days 04:05:06.5'::interval
----
1 year 2 mons 3 days 04:05:06.5

query T
SELECT '-1 day'::interval
----
-1 days

query T
SELECT '1 day'::interval * 3
----
3 days

query T
SELECT '1 hour'::interval / 2
----
00:30:00

query T
SELECT '1 day'::interval + '1 hour'::interval - '30 minutes'::interval
----
1 day 00:30:00

query T
SELECT '36 hours'::interval
----
36:00:00

query T
SELECT 'P1Y2M3DT4H5M6S'::interval
----
1 year 2 mons 3 days 04:05:06

query B
SELECT '1 day'::interval = '24 hours'::interval
----
t

statement error 22007
SELECT 'forever'::interval

# UUID
query T
SELECT 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid
----
a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11

query T
SELECT '{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}'::uuid
----
a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11

query T
SELECT 'a0eebc999c0b4ef8bb6d6bb9bd380a11'::uuid
----
a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11

statement error 22P02
SELECT 'a0eebc99'::uuid

query IB
SELECT length(gen_random_uuid()::text), gen_random_uuid() = gen_random_uuid()
----
36  f

statement ok
CREATE TABLE u (id UUID PRIMARY KEY, v INT)

statement ok
INSERT INTO u VALUES ('00000000-0000-0000-0000-000000000002', 2), ('00000000-0000-0000-0000-000000000001', 1)

query TI
SELECT * FROM u ORDER BY id
----
00000000-0000-0000-0000-000000000001  1
00000000-0000-0000-0000-000000000002  2

query I
SELECT v FROM u WHERE id = '00000000-0000-0000-0000-000000000002'
----
2

statement ok
DROP TABLE u

# JSONB: normalised output, -> and ->>.
query T
SELECT '{"b": 1, "a": [1, 2, {"c": null}], "a": "dup"}'::jsonb
----
{"a": "dup", "b": 1}

query T
SELECT '  [1,  2.50, "x", true, null]  '::jsonb
----
[1, 2.50, "x", true, null]

query TT
SELECT '{"a": {"b": [10, 20]}}'::jsonb -> 'a', '{"a": {"b": [10, 20]}}'::jsonb -> 'a' -> 'b' -> 1
----
{"b": [10, 20]}  20

query TT
SELECT '{"a": "text", "n": 5}'::jsonb ->> 'a', '{"a": "text", "n": 5}'::jsonb ->> 'n'
----
text  5

query TT
SELECT '[1, 2, 3]'::jsonb -> 0, '[1, 2, 3]'::jsonb ->> -1
----
1  3

query TT
SELECT '{"a": 1}'::jsonb -> 'missing', '[1]'::jsonb -> 5
----
NULL  NULL

query T
SELECT '{"a": null}'::jsonb ->> 'a'
----
NULL

query T
SELECT '{"a": null}'::jsonb -> 'a'
----
null

query T
SELECT jsonb_typeof('{"a": 1}'::jsonb -> 'a')
----
number

statement error 22P02
SELECT '{"a": }'::jsonb

statement ok
CREATE TABLE docs (id INT PRIMARY KEY, doc JSONB)

statement ok
INSERT INTO docs VALUES (1, '{"name": "ann", "tags": ["x", "y"], "age": 30}'), (2, '{"name": "bob"}'), (3, NULL)

query ITT
SELECT id, doc ->> 'name', doc -> 'tags' FROM docs ORDER BY id
----
1  ann   ["x", "y"]
2  bob   NULL
3  NULL  NULL

query I
SELECT id FROM docs WHERE doc ->> 'name' = 'bob'
----
2

query T
SELECT doc FROM docs WHERE id = 1
----
{"age": 30, "name": "ann", "tags": ["x", "y"]}

statement ok
DROP TABLE docs

# Casts between types.
query TTTT
SELECT 12::text, 1.50::text, true::text, '2024-01-02'::date::text
----
12  1.50  true  2024-01-02

query IRR
SELECT '12'::int + 1, '1.5'::numeric + 1, 3::float8 / 2
----
13  2.5  1.5

query TT
SELECT CAST(42 AS TEXT), CAST('3' AS INT)::text
----
42  3

query R
SELECT 1::numeric / 8
----
0.12500000000000000000

query I
SELECT 3.9::numeric::int
----
4

statement error 42846
SELECT true::date

statement error 42846
SELECT '2024-01-01'::date::int

# More output formats.
query RRRR
SELECT 1e3::numeric, 0.000001::numeric, 1.23e-10::numeric, -0.0::numeric
----
1000  0.000001  0.000000000123  0.0

query RRR
SELECT 3.14159::float4, 1::float4 / 3::float4, 0.1::float4::float8
----
3.14159  0.33333334  0.10000000149011612

query TT
SELECT 1e100::float8::text, 1.5e-7::float8::text
----
1e+100  1.5e-07

query TTT
SELECT '1.5 days'::interval, '-1 hour -2 minutes'::interval, '1 mon'::interval - '1 day'::interval
----
1 day 12:00:00  -01:02:00  1 mon -1 days

query TTT
SELECT '0 seconds'::interval, '1 millisecond'::interval, '100 years'::interval
----
00:00:00  00:00:00.001  100 years

query TT
SELECT 'infinity'::timestamp, '-infinity'::date
----
infinity  -infinity

query T
SELECT '2024-01-02 03:04:05 BC'::timestamp
----
2024-01-02 03:04:05 BC

query TTT
SELECT 'true'::jsonb, '"str"'::jsonb, '1.0e2'::jsonb
----
true  "str"  100

query TT
SELECT '{}'::jsonb, '[]'::jsonb
----
{}  []

statement error 22003
SELECT -32768::int2

query I
SELECT (-32768)::int2 + 0::int2
----
-32768

statement error 22012
SELECT 1::int2 / 0::int2

statement ok
SET TIME ZONE 'UTC'

statement error 22023
SET TIME ZONE 'Nowhere/Land'

query T
SELECT '2024-07-01 12:00:00-04'::timestamptz
----
2024-07-01 16:00:00+00

# Storage round trips for every type.
statement ok
CREATE TABLE alltypes (
  id INT8 PRIMARY KEY, b BOOL, i2 INT2, i4 INT4, f4 FLOAT4, f8 FLOAT8, n NUMERIC(12,4),
  t TEXT, vc VARCHAR(10), ba BYTEA, d DATE, ts TIMESTAMP, tz TIMESTAMPTZ, iv INTERVAL, u UUID, j JSONB
)

statement ok
INSERT INTO alltypes VALUES
  (1, true, -5, 100000, 1.25, -2.5e-3, 12345678.1234, 'héllo wörld', 'short', '\x00ff10', '2000-02-29',
   '2001-02-03 04:05:06.789', '2001-02-03 04:05:06.789+01', '1 day 2 hours 3 minutes', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"k": [1, "two", null]}'),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (3, false, 32767, -2147483648, 'NaN', 'Infinity', -0.00005, '', '', '', 'infinity', '-infinity', 'infinity', '-1 mon', '00000000-0000-0000-0000-000000000000', '[]')

query IBIIRRRTTTTTTTTT
SELECT * FROM alltypes ORDER BY id
----
1  t     -5     100000       1.25  -0.0025   12345678.1234  héllo wörld  short  \x00ff10  2000-02-29  2001-02-03 04:05:06.789  2001-02-03 03:05:06.789+00  1 day 02:03:00  a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11  {"k": [1, "two", null]}
2  NULL  NULL   NULL         NULL  NULL      NULL           NULL         NULL   NULL      NULL        NULL                     NULL                        NULL            NULL                                  NULL
3  f     32767  -2147483648  NaN   Infinity  -0.0001        ·            ·      \x        infinity    -infinity                infinity                    -1 mons         00000000-0000-0000-0000-000000000000  []

query I
SELECT id FROM alltypes WHERE n = 12345678.1234 AND t = 'héllo wörld' AND d = '2000-02-29' AND u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'
----
1

query I
SELECT id FROM alltypes WHERE ba = '\x' AND vc = '' AND iv < '0 days'
----
3
