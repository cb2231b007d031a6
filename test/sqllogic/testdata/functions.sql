# Built-in functions and operators: strings, math, date/time, CASE,
# COALESCE, NULLIF, LIKE.

# String functions
query TTT
SELECT lower('HeLLo'), upper('HeLLo'), initcap('hello wORLD foo-bar')
----
hello  HELLO  Hello World Foo-Bar

query IIII
SELECT length('héllo'), char_length('abc'), octet_length('héllo'), bit_length('ab')
----
5  3  6  16

query TT
SELECT 'foo' || 'bar', 'n=' || 42
----
foobar  n=42

query T
SELECT 'a' || NULL
----
NULL

query TTT
SELECT concat('a', NULL, 'b', 1, true), concat_ws('-', 'a', NULL, 'b', 'c'), concat_ws(',', 1, 2)
----
ab1t  a-b-c  1,2

query TTTT
SELECT substring('hello world' FROM 7), substring('hello world' FROM 1 FOR 5), substr('hello', 2, 3), substring('hello', 0, 3)
----
world  hello  ell  he

query TT
SELECT left('abcdef', 2), right('abcdef', -2)
----
ab  cdef

query TTT
SELECT trim('  pad  ') || '|', ltrim('xxabcxx', 'x'), rtrim('xxabcxx', 'x')
----
pad|  abcxx  xxabc

query TT
SELECT btrim('  both  ') || '|', trim(BOTH 'x' FROM 'xxaxx')
----
both|  a

query TTTT
SELECT lpad('7', 3, '0'), rpad('ab', 5, '*'), lpad('hello', 2), rpad('x', 3) || '|'
----
007  ab***  he  x  |

query TTT
SELECT repeat('ab', 3), replace('a.b.c', '.', '/'), reverse('abc')
----
ababab  a/b/c  cba

query III
SELECT position('lo' IN 'hello'), strpos('hello', 'z'), ascii('A')
----
4  0  65

query TTT
SELECT chr(65), translate('12345', '143', 'ax'), split_part('a,b,c', ',', 2)
----
A  a2x5  b

query TT
SELECT split_part('a,b,c', ',', 5), split_part('a,b,c', ',', -1)
----
·  c

query TTT
SELECT md5('abc'), to_hex(255), to_hex(-1)
----
900150983cd24fb0d6963f7d28e17f72  ff  ffffffff

query BB
SELECT starts_with('hello', 'he'), starts_with('hello', 'lo')
----
t  f

query TTT
SELECT quote_ident('Foo bar'), quote_literal('it''s'), quote_nullable(NULL)
----
"Foo bar"  'it''s'  NULL

query TT
SELECT overlay('Txxxxas' PLACING 'hom' FROM 2 FOR 4), format('%s-%s', 'a', 1)
----
Thomas  a-1

query TTT
SELECT regexp_replace('foo123bar', '[0-9]+', '#'), regexp_replace('aaa', 'a', 'b', 'g'), encode('abc'::bytea, 'hex')
----
foo#bar  bbb  616263

# LIKE, ILIKE, NOT LIKE, escapes
query BBBB
SELECT 'abc' LIKE 'a%', 'abc' LIKE '_b_', 'abc' LIKE 'b%', 'abc' NOT LIKE '%d'
----
t  t  f  t

query BBB
SELECT 'ABC' ILIKE 'a%', 'a%c' LIKE 'a\%c', 'abc' LIKE 'a\%c'
----
t  t  f

query BB
SELECT 'a_c' LIKE 'a!_c' ESCAPE '!', 'abc' LIKE 'a!_c' ESCAPE '!'
----
t  f

query B
SELECT NULL LIKE 'a'
----
NULL

query BB
SELECT 'abc' ~ '^a.c$', 'abc' !~ 'b'
----
t  f

# Math
query IRIR
SELECT abs(-5), abs(-2.5), mod(17, 5), mod(-17.5, 5)
----
5  2.5  2  -2.5

query RRRR
SELECT ceil(1.2), ceiling(-1.2), floor(1.8), floor(-1.2)
----
2  -1  1  -2

query RRRR
SELECT round(3.14159, 3), round(-0.5), trunc(-1.7), trunc(12.345, -1)
----
3.142  -1  -1  10

query RR
SELECT round(2.5::float8), round(3.5::float8)
----
2  4

query RRR
SELECT sqrt(16), cbrt(64::float8), power(2, 10)
----
4  4  1024

query RRR
SELECT exp(0), ln(1), log(100)
----
1  0  2

query RR
SELECT log(2, 8), round(pi()::numeric, 5)
----
3.0000000000000000  3.14159

query RRIR
SELECT sign(-3), sign(0), gcd(12, 18), div(17, 5)
----
-1  0  6  3

query RR
SELECT degrees(pi()), radians(180)
----
180  3.141592653589793

query IR
SELECT 5 / 2, 5 / 2.0
----
2  2.5000000000000000

query I
SELECT 1 << 4 | 1
----
17

query III
SELECT 12 & 10, 12 | 10, 12 # 10
----
8  14  6

query BB
SELECT random() >= 0, random() < 1
----
t  t

statement error 22012
SELECT 5 / 0

statement error 22012
SELECT 5 % 0

statement error 22012
SELECT mod(5, 0)

statement error 2201F
SELECT sqrt(-1)

statement error 2201E
SELECT ln(0)

statement error 22003
SELECT abs(-2147483648::int4)

# CASE, COALESCE, NULLIF, GREATEST, LEAST
query TTT
SELECT CASE 2 WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END, CASE WHEN false THEN 'x' END, CASE WHEN NULL THEN 'a' ELSE 'b' END
----
two  NULL  b

query I
SELECT CASE WHEN 1 > 0 THEN 1 ELSE 1 / 0 END
----
1

query ITR
SELECT coalesce(NULL, 2, 3), coalesce(NULL, NULL, 'z'), coalesce(NULL, 1.5)
----
2  z  1.5

query I
SELECT coalesce(NULL::int, NULL)
----
NULL

query IIT
SELECT nullif(1, 1), nullif(1, 2), nullif('a', 'b')
----
NULL  1  a

query IIT
SELECT greatest(1, 5, 3), least(4, NULL, 2), greatest('apple', 'pear')
----
5  2  pear

statement error 42804
SELECT CASE WHEN true THEN 1 ELSE 'x'::text END

statement error 42804
SELECT coalesce(1, 'x'::text)

# Date and time functions (fixed inputs: the results do not depend on the clock)
statement ok
SET TIME ZONE 'UTC'

query RRR
SELECT extract(year FROM '2024-03-15'::date), extract(month FROM '2024-03-15'::date), extract(day FROM '2024-03-15'::date)
----
2024  3  15

query RRR
SELECT extract(hour FROM '2024-03-15 13:45:30'::timestamp), extract(minute FROM '2024-03-15 13:45:30'::timestamp), extract(second FROM '2024-03-15 13:45:30.5'::timestamp)
----
13  45  30.500000

query RR
SELECT extract(dow FROM '2024-03-15'::date), extract(doy FROM '2024-03-15'::date)
----
5  75

query RR
SELECT extract(epoch FROM '2024-01-01 00:00:00+00'::timestamptz), extract(epoch FROM '1 day'::interval)
----
1704067200.000000  86400.000000

query RR
SELECT date_part('year', '2024-03-15'::timestamp), date_part('quarter', '2024-08-01'::timestamp)
----
2024  3

query TT
SELECT date_trunc('month', '2024-03-15 13:45:30'::timestamp), date_trunc('hour', '2024-03-15 13:45:30'::timestamp)
----
2024-03-01 00:00:00  2024-03-15 13:00:00

query TT
SELECT date_trunc('year', '2024-03-15'::timestamptz), date_trunc('week', '2024-03-15'::timestamp)
----
2024-01-01 00:00:00+00  2024-03-11 00:00:00

query T
SELECT date_trunc('day', '3 days 04:05:06'::interval)
----
3 days

query TT
SELECT age('2024-03-15'::timestamp, '2023-01-01'::timestamp), age('2024-01-01'::timestamp, '2024-03-15 12:00:00'::timestamp)
----
1 year 2 mons 14 days  -2 mons -14 days -12:00:00

query TTT
SELECT make_date(2024, 2, 29), make_timestamp(2024, 1, 2, 3, 4, 5.5), make_interval(0, 0, 0, 10, 2)
----
2024-02-29  2024-01-02 03:04:05.5  10 days 02:00:00

query TTT
SELECT justify_days('35 days'::interval), justify_hours('27 hours'::interval), justify_interval('1 day 25 hours'::interval)
----
1 mon 5 days  1 day 03:00:00  2 days 01:00:00

query T
SELECT to_timestamp(0)
----
1970-01-01 00:00:00+00

query T
SELECT to_timestamp(1700000000.5)
----
2023-11-14 22:13:20.5+00

query TT
SELECT to_char('2024-03-05 14:07:09'::timestamp, 'YYYY-MM-DD HH24:MI:SS'), to_char('2024-03-05'::date, 'Dy DD Mon YYYY')
----
2024-03-05 14:07:09  Tue 05 Mar 2024

query T
SELECT to_char(1234.5, '9999.99')
----
 1234.50

query BB
SELECT isfinite('2024-01-01'::date), isfinite('infinity'::timestamp)
----
t  f

query BBB
SELECT now() = current_timestamp, now() > '2020-01-01'::timestamptz, now() = transaction_timestamp()
----
t  t  t

query BB
SELECT current_date <= now()::date + 1, clock_timestamp() >= now()
----
t  t

statement error 22023
SELECT date_trunc('fortnight', '2024-01-01'::timestamp)

statement error 22008
SELECT make_date(2023, 2, 29)

# Miscellaneous
query TTT
SELECT pg_typeof(1::int2)::text, pg_typeof('a'::varchar)::text, pg_typeof(now())::text
----
smallint  character varying  timestamp with time zone

query II
SELECT num_nulls(1, NULL, NULL), num_nonnulls(1, NULL, 'a')
----
2  2

query TT
SELECT current_database(), current_schema()
----
sqllogic_functions  public

query T
SELECT array_to_string(string_to_array('a,b,c', ','), '|')
----
a|b|c

statement error 42883
SELECT nosuchfunction(1)

statement error 42883
SELECT lower(1)

statement error 42883
SELECT length()

# More cases.
query TTT
SELECT substring('hello' FROM 'l+'), upper('straße'), lower('ÀÉÎ')
----
ll  STRAßE  àéî

query IIT
SELECT length(repeat('x', 1000)), position('' IN 'abc'), replace('aaa', 'a', '') || '|'
----
1000  1  |

query TT
SELECT repeat('x', -1) || '|', lpad('abc', 0) || '|'
----
|  |

query RRR
SELECT round(-1.5::numeric), round(1.45, 1), round(123.456, -2)
----
-2  1.5  100

query RRR
SELECT trunc(5.9::float8), floor(-0.5::float8), ceil(-0.5::float8)
----
5  -1  -0

query T
SELECT 'abc' || 1.50
----
abc1.50

query T
SELECT '2024-03-15'::date + '1 day'::interval
----
2024-03-16 00:00:00

query R
SELECT extract(epoch FROM '2024-01-01 00:00:00'::timestamp)
----
1704067200.000000

query TT
SELECT to_char(5, '000'), to_char(-12.5, 'S999.99')
----
 005   -12.50

query TT
SELECT to_char('2024-12-31 23:59:59'::timestamp, 'Day Month DD HH12 AM'), to_char('2024-07-04'::date, 'YYYY "Q"Q')
----
Tuesday   December  31 11 PM  2024 Q3

query T
SELECT date_trunc('minute', '2024-03-15 13:45:30.999'::timestamp)
----
2024-03-15 13:45:00

query TT
SELECT regexp_match('foo123bar45', '(\d+)\D+(\d+)')::text, regexp_replace('Hello World', '(\w+) (\w+)', '\2 \1')
----
{123,45}  World Hello

query TT
SELECT format('%I', 'my col'), format('%L', NULL)
----
"my col"  NULL

query III
SELECT abs(-9223372036854775807), 9223372036854775807 % 10, -9223372036854775807 / 2
----
9223372036854775807  7  -4611686018427387903

query IIIB
SELECT greatest(1, NULL), least(NULL::int), coalesce(NULL, NULL, 7), nullif(NULL, 1) IS NULL
----
1  NULL  7  t

query TT
SELECT CASE WHEN NULL THEN 'a' END, CASE NULL WHEN NULL THEN 'null matches' ELSE 'no match' END
----
NULL  no match

query TTT
SELECT initcap('ÉCOLE élève'), translate('hello', 'lo', 'L'), reverse('héllo')
----
École Élève  heLL  olléh

# regclass: a relation's oid, output (and cast to text) as its name,
# quoted if needed; an oid naming no relation is output as the number.
statement ok
CREATE TABLE "rc T" (id int PRIMARY KEY)

query TTTB
SELECT '"rc T"'::regclass, '"rc T"'::regclass::text, '"rc T"'::regclass || '!', '"rc T"'::regclass = (SELECT oid FROM pg_class WHERE relname = 'rc T')
----
"rc T"  "rc T"  "rc T"!  t

query TT
SELECT 4242424::regclass, array_agg(oid::regclass)::text FROM pg_class WHERE relname = 'rc T'
----
4242424  {"\"rc T\""}

statement ok
DROP TABLE "rc T"
