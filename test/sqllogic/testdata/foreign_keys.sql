# FOREIGN KEY constraints: definition, checks on write, referential
# actions, DROP and TRUNCATE of referenced tables, the catalogs.

statement ok
CREATE TABLE p (id INT PRIMARY KEY, code TEXT UNIQUE, name TEXT)

statement ok
CREATE TABLE c (id INT PRIMARY KEY, p_id INT REFERENCES p, note TEXT)

statement ok
INSERT INTO p VALUES (1, 'one', 'p1'), (2, 'two', 'p2'), (3, 'three', 'p3')

statement count 3
INSERT INTO c VALUES (10, 1, 'a'), (11, 1, 'b'), (12, 2, 'c')

# A child without its parent.
statement error 23503 insert or update on table "c" violates foreign key constraint "c_p_id_fkey"
INSERT INTO c VALUES (13, 99, 'x')

# The whole statement fails.
statement error 23503
INSERT INTO c VALUES (13, 3, 'x'), (14, 98, 'y')

query I
SELECT count(*) FROM c
----
3

# NULL is not checked (MATCH SIMPLE).
statement count 1
INSERT INTO c VALUES (13, NULL, 'orphan by choice')

# UPDATE of the child to a missing parent.
statement error 23503 insert or update on table "c" violates foreign key constraint "c_p_id_fkey"
UPDATE c SET p_id = 42 WHERE id = 10

statement count 1
UPDATE c SET p_id = 3 WHERE id = 10

# DELETE of a referenced parent (NO ACTION).
statement error 23503 update or delete on table "p" violates foreign key constraint "c_p_id_fkey" on table "c"
DELETE FROM p WHERE id = 1

# An unreferenced parent can go.
statement ok
INSERT INTO p VALUES (4, 'four', 'p4')

statement count 1
DELETE FROM p WHERE id = 4

# UPDATE of a referenced key.
statement error 23503 update or delete on table "p" violates foreign key constraint "c_p_id_fkey" on table "c"
UPDATE p SET id = 100 WHERE id = 1

# Other columns of a referenced row may change.
statement count 1
UPDATE p SET name = 'renamed' WHERE id = 1

# NO ACTION is checked at the end of the statement: a key that another
# row takes over is still there.
statement ok
CREATE TABLE sp (k INT PRIMARY KEY)

statement ok
CREATE TABLE sc (k INT REFERENCES sp)

statement ok
INSERT INTO sp VALUES (1), (2)

statement ok
INSERT INTO sc VALUES (1)

statement error 23503
UPDATE sp SET k = 3 WHERE k = 1

statement ok
UPDATE sp SET k = CASE k WHEN 1 THEN 5 WHEN 2 THEN 1 END

query I rowsort
SELECT k FROM sp
----
1
5

statement count 1
DELETE FROM sc

statement count 2
UPDATE sp SET k = k * 10

# Deleting the children first, then the parent, in one transaction.
statement ok
BEGIN

statement ok
DELETE FROM c WHERE p_id = 1

statement ok
DELETE FROM p WHERE id = 1

statement ok
COMMIT

query IT rowsort
SELECT id, name FROM p
----
2  p2
3  p3

# Table constraints, a unique key as the referenced columns, names.
statement ok
CREATE TABLE c2 (id INT PRIMARY KEY, pcode TEXT, CONSTRAINT c2_code_fk FOREIGN KEY (pcode) REFERENCES p (code))

statement ok
INSERT INTO c2 VALUES (1, 'two')

statement error 23503 insert or update on table "c2" violates foreign key constraint "c2_code_fk"
INSERT INTO c2 VALUES (2, 'nine')

statement error 23503 update or delete on table "p" violates foreign key constraint "c2_code_fk" on table "c2"
UPDATE p SET code = 'deux' WHERE id = 2

statement error 23503
DELETE FROM p WHERE code = 'two'

# Referenced columns must be unique.
statement error 42830 there is no unique constraint matching given keys for referenced table "p"
CREATE TABLE bad (x TEXT REFERENCES p (name))

# Column counts must agree.
statement error 42830 number of referencing and referenced columns for foreign key disagree
CREATE TABLE bad (a INT, b INT, FOREIGN KEY (a, b) REFERENCES p (id))

# Types must be compatible.
statement error 42804 foreign key constraint "bad_x_fkey" cannot be implemented
CREATE TABLE bad (x TEXT REFERENCES p (id))

# Compatible types of one family.
statement ok
CREATE TABLE c8 (x BIGINT REFERENCES p (id))

statement ok
INSERT INTO c8 VALUES (2)

statement error 23503
INSERT INTO c8 VALUES (5000000000)

statement ok
DROP TABLE c8

# Missing tables and columns.
statement error 42P01 relation "nope" does not exist
CREATE TABLE bad (x INT REFERENCES nope)

statement error 42703 column "nope" referenced in foreign key constraint does not exist
CREATE TABLE bad (x INT REFERENCES p (nope))

statement error 42703 column "nope" referenced in foreign key constraint does not exist
CREATE TABLE bad (x INT, FOREIGN KEY (nope) REFERENCES p)

# A table without a primary key cannot be referenced without columns.
statement ok
CREATE TABLE nopk (a INT UNIQUE)

statement error 42704 there is no primary key for referenced table "nopk"
CREATE TABLE bad (x INT REFERENCES nopk)

statement ok
CREATE TABLE c3 (x INT REFERENCES nopk (a))

statement ok
DROP TABLE c3, nopk

# Composite keys, MATCH SIMPLE.
statement ok
CREATE TABLE pc (a INT, b INT, v TEXT, PRIMARY KEY (a, b))

statement ok
CREATE TABLE cc (id INT PRIMARY KEY, x INT, y INT, FOREIGN KEY (x, y) REFERENCES pc (a, b))

statement ok
INSERT INTO pc VALUES (1, 1, 'a'), (1, 2, 'b')

statement ok
INSERT INTO cc VALUES (1, 1, 1), (2, 1, 2), (3, NULL, 7), (4, 9, NULL)

statement error 23503 insert or update on table "cc" violates foreign key constraint "cc_x_y_fkey"
INSERT INTO cc VALUES (5, 2, 1)

statement error 23503 update or delete on table "pc" violates foreign key constraint "cc_x_y_fkey" on table "cc"
DELETE FROM pc WHERE a = 1 AND b = 2

# Referenced columns in another order than the key.
statement ok
CREATE TABLE cc2 (y INT, x INT, FOREIGN KEY (y, x) REFERENCES pc (b, a))

statement ok
INSERT INTO cc2 VALUES (2, 1)

statement error 23503
INSERT INTO cc2 VALUES (1, 2)

statement ok
DROP TABLE cc2

# MATCH FULL refuses a partly NULL key.
statement ok
CREATE TABLE cf (x INT, y INT, FOREIGN KEY (x, y) REFERENCES pc MATCH FULL)

statement ok
INSERT INTO cf VALUES (1, 1), (NULL, NULL)

statement error 23503 insert or update on table "cf" violates foreign key constraint "cf_x_y_fkey"
INSERT INTO cf VALUES (1, NULL)

statement ok
DROP TABLE cf

# ON DELETE CASCADE.
statement ok
CREATE TABLE orders (id INT PRIMARY KEY, customer TEXT NOT NULL)

statement ok
CREATE TABLE items (order_id INT REFERENCES orders ON DELETE CASCADE, line INT, sku TEXT, PRIMARY KEY (order_id, line))

statement ok
CREATE TABLE notes (id INT PRIMARY KEY, order_id INT, line INT, FOREIGN KEY (order_id, line) REFERENCES items ON DELETE CASCADE)

statement ok
INSERT INTO orders VALUES (1, 'ann'), (2, 'bob'), (3, 'cy')

statement ok
INSERT INTO items VALUES (1, 1, 'x'), (1, 2, 'y'), (2, 1, 'z'), (3, 1, 'w')

statement ok
INSERT INTO notes VALUES (1, 1, 1), (2, 1, 2), (3, 2, 1)

statement count 1
DELETE FROM orders WHERE id = 1

query IIT rowsort
SELECT * FROM items
----
2  1  z
3  1  w

query III
SELECT * FROM notes
----
3  2  1

# RETURNING and the count are the statement's own rows.
query IT
DELETE FROM orders WHERE id = 2 RETURNING *
----
2  bob

query I
SELECT count(*) FROM notes
----
0

# ON DELETE SET NULL, ON UPDATE CASCADE.
statement ok
CREATE TABLE teams (id INT PRIMARY KEY, name TEXT UNIQUE)

statement ok
CREATE TABLE players (id INT PRIMARY KEY, team INT REFERENCES teams ON DELETE SET NULL ON UPDATE CASCADE, team_name TEXT REFERENCES teams (name) ON UPDATE CASCADE ON DELETE SET DEFAULT DEFAULT 'free')

statement ok
INSERT INTO teams VALUES (1, 'red'), (2, 'blue'), (3, 'free')

statement ok
INSERT INTO players VALUES (10, 1, 'red'), (11, 1, 'red'), (12, 2, 'blue')

statement count 1
UPDATE teams SET id = 100 WHERE id = 1

query IIT
SELECT * FROM players ORDER BY id
----
10  100  red
11  100  red
12  2    blue

statement count 1
UPDATE teams SET name = 'crimson' WHERE id = 100

query IIT
SELECT * FROM players ORDER BY id
----
10  100  crimson
11  100  crimson
12  2    blue

statement count 1
DELETE FROM teams WHERE id = 100

query IIT
SELECT * FROM players ORDER BY id
----
10  NULL  free
11  NULL  free
12  2     blue

# SET DEFAULT to the deleted key fails.
statement error 23503 update or delete on table "teams" violates foreign key constraint "players_team_name_fkey" on table "players"
DELETE FROM teams WHERE id = 3

# SET DEFAULT to a value with no parent fails.
statement ok
INSERT INTO teams VALUES (4, 'green')

statement ok
INSERT INTO players VALUES (13, NULL, 'green')

statement ok
UPDATE players SET team_name = 'blue' WHERE id IN (10, 11)

statement ok
DELETE FROM teams WHERE id = 3

statement error 23503 insert or update on table "players" violates foreign key constraint "players_team_name_fkey"
DELETE FROM teams WHERE id = 4

# SET NULL on a NOT NULL column fails.
statement ok
CREATE TABLE strict (id INT PRIMARY KEY, team INT NOT NULL REFERENCES teams ON DELETE SET NULL)

statement ok
INSERT INTO strict VALUES (1, 2)

statement error 23502
DELETE FROM teams WHERE id = 2

statement ok
DROP TABLE strict

# ON DELETE RESTRICT.
statement ok
CREATE TABLE rp (id INT PRIMARY KEY)

statement ok
CREATE TABLE rc (id INT REFERENCES rp ON DELETE RESTRICT ON UPDATE RESTRICT)

statement ok
INSERT INTO rp VALUES (1), (2)

statement ok
INSERT INTO rc VALUES (1)

statement error 23503 update or delete on table "rp" violates foreign key constraint "rc_id_fkey" on table "rc"
DELETE FROM rp

statement error 23503
UPDATE rp SET id = 5 WHERE id = 1

statement count 1
DELETE FROM rp WHERE id = 2

# A table referencing itself.
statement ok
CREATE TABLE emp (id INT PRIMARY KEY, boss INT REFERENCES emp ON DELETE CASCADE)

statement ok
INSERT INTO emp VALUES (1, NULL), (2, 1), (3, 2), (4, 4)

# Checked at the end of the statement: the parent may come later.
statement ok
INSERT INTO emp VALUES (6, 5), (5, 1)

statement error 23503 insert or update on table "emp" violates foreign key constraint "emp_boss_fkey"
INSERT INTO emp VALUES (7, 70)

statement count 1
DELETE FROM emp WHERE id = 2

query II rowsort
SELECT * FROM emp
----
1  NULL
4  4
5  1
6  5

statement count 4
DELETE FROM emp

# ALTER TABLE ADD CONSTRAINT ... FOREIGN KEY validates the rows.
statement ok
CREATE TABLE ap (id INT PRIMARY KEY)

statement ok
CREATE TABLE ac (id INT PRIMARY KEY, ap_id INT)

statement ok
INSERT INTO ap VALUES (1), (2)

statement ok
INSERT INTO ac VALUES (1, 1), (2, 3), (3, NULL)

statement error 23503 insert or update on table "ac" violates foreign key constraint "ac_fk"
ALTER TABLE ac ADD CONSTRAINT ac_fk FOREIGN KEY (ap_id) REFERENCES ap (id)

statement ok
UPDATE ac SET ap_id = 2 WHERE id = 2

statement ok
ALTER TABLE ac ADD CONSTRAINT ac_fk FOREIGN KEY (ap_id) REFERENCES ap (id) ON DELETE CASCADE

statement error 42710 constraint "ac_fk" for relation "ac" already exists
ALTER TABLE ac ADD CONSTRAINT ac_fk FOREIGN KEY (ap_id) REFERENCES ap (id)

statement error 23503
INSERT INTO ac VALUES (4, 9)

statement count 1
DELETE FROM ap WHERE id = 1

query II rowsort
SELECT * FROM ac
----
2  2
3  NULL

# NOT VALID skips the existing rows.
statement ok
INSERT INTO ac VALUES (5, 2)

statement ok
ALTER TABLE ac ADD FOREIGN KEY (id) REFERENCES ap NOT VALID

statement error 23503 insert or update on table "ac" violates foreign key constraint "ac_id_fkey"
INSERT INTO ac VALUES (6, 2)

# DROP CONSTRAINT.
statement ok
ALTER TABLE ac DROP CONSTRAINT ac_id_fkey

statement ok
ALTER TABLE ac DROP CONSTRAINT ac_fk

statement ok
INSERT INTO ac VALUES (6, 9)

statement error 42704
ALTER TABLE ac DROP CONSTRAINT ac_fk

statement ok
ALTER TABLE ac DROP CONSTRAINT IF EXISTS ac_fk

# ADD COLUMN ... REFERENCES.
statement ok
ALTER TABLE ac ADD COLUMN other INT REFERENCES ap

statement error 23503 insert or update on table "ac" violates foreign key constraint "ac_other_fkey"
INSERT INTO ac VALUES (7, NULL, 8)

# DROP TABLE of a referenced table.
statement error 2BP01 cannot drop table ap because other objects depend on it
DROP TABLE ap

statement ok
DROP TABLE ap CASCADE

statement ok
INSERT INTO ac VALUES (7, NULL, 8)

# Dropping both at once is fine.
statement ok
CREATE TABLE dp (id INT PRIMARY KEY)

statement ok
CREATE TABLE dc (id INT REFERENCES dp)

statement ok
DROP TABLE dp, dc

# TRUNCATE of a referenced table.
statement ok
CREATE TABLE tp (id INT PRIMARY KEY)

statement ok
CREATE TABLE tc (id INT REFERENCES tp)

statement ok
INSERT INTO tp VALUES (1)

statement ok
INSERT INTO tc VALUES (1)

statement error 0A000 cannot truncate a table referenced in a foreign key constraint
TRUNCATE tp

statement ok
TRUNCATE tp, tc

statement ok
INSERT INTO tp VALUES (1)

statement ok
INSERT INTO tc VALUES (1)

statement ok
TRUNCATE tp CASCADE

query I
SELECT count(*) FROM tc
----
0

# A unique constraint a foreign key uses cannot be dropped.
statement error 2BP01
ALTER TABLE p DROP CONSTRAINT p_code_key

# Nor can a referenced column.
statement error 2BP01
ALTER TABLE p DROP COLUMN code

# Dropping a referencing column drops its foreign key.
statement ok
ALTER TABLE c2 DROP COLUMN pcode

statement ok
ALTER TABLE p DROP CONSTRAINT p_code_key

# Renaming a foreign key.
statement ok
ALTER TABLE c RENAME CONSTRAINT c_p_id_fkey TO c_parent

statement error 23503 violates foreign key constraint "c_parent"
INSERT INTO c VALUES (50, 77)

# Upsert and foreign keys.
statement ok
INSERT INTO c VALUES (50, 2) ON CONFLICT (id) DO UPDATE SET p_id = excluded.p_id

statement error 23503
INSERT INTO c VALUES (50, 77) ON CONFLICT (id) DO UPDATE SET p_id = excluded.p_id

# The catalogs.
query TTTTT rowsort
SELECT conname, contype, confupdtype, confdeltype, confmatchtype FROM pg_constraint WHERE contype = 'f' AND conrelid IN ('c'::regclass, 'players'::regclass, 'cc'::regclass)
----
c_parent                f  a  a  s
cc_x_y_fkey             f  a  a  s
players_team_fkey       f  c  n  s
players_team_name_fkey  f  c  d  s

query TT rowsort
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' AND conrelid IN ('c'::regclass, 'players'::regclass, 'cc'::regclass)
----
c_parent                FOREIGN KEY (p_id) REFERENCES p(id)
cc_x_y_fkey             FOREIGN KEY (x, y) REFERENCES pc(a, b)
players_team_fkey       FOREIGN KEY (team) REFERENCES teams(id) ON UPDATE CASCADE ON DELETE SET NULL
players_team_name_fkey  FOREIGN KEY (team_name) REFERENCES teams(name) ON UPDATE CASCADE ON DELETE SET DEFAULT

query TTT rowsort
SELECT conname, a.relname, b.relname FROM pg_constraint JOIN pg_class a ON a.oid = conrelid JOIN pg_class b ON b.oid = confrelid WHERE contype = 'f' AND conname = 'cc_x_y_fkey'
----
cc_x_y_fkey  cc  pc

query TT
SELECT conkey::text, confkey::text FROM pg_constraint WHERE conname = 'cc_x_y_fkey'
----
{2,3}  {1,2}

# information_schema.
query TTT rowsort
SELECT constraint_name, table_name, constraint_type FROM information_schema.table_constraints WHERE table_name IN ('c', 'cc', 'pc', 'players') AND constraint_type <> 'CHECK'
----
c_parent                c        FOREIGN KEY
c_pkey                  c        PRIMARY KEY
cc_pkey                 cc       PRIMARY KEY
cc_x_y_fkey             cc       FOREIGN KEY
pc_pkey                 pc       PRIMARY KEY
players_pkey            players  PRIMARY KEY
players_team_fkey       players  FOREIGN KEY
players_team_name_fkey  players  FOREIGN KEY

query TTTTT rowsort
SELECT constraint_name, unique_constraint_name, match_option, update_rule, delete_rule FROM information_schema.referential_constraints WHERE constraint_name IN ('c_parent', 'cc_x_y_fkey', 'players_team_fkey', 'players_team_name_fkey')
----
c_parent                p_pkey          NONE  NO ACTION  NO ACTION
cc_x_y_fkey             pc_pkey         NONE  NO ACTION  NO ACTION
players_team_fkey       teams_pkey      NONE  CASCADE    SET NULL
players_team_name_fkey  teams_name_key  NONE  CASCADE    SET DEFAULT

query TTTII rowsort
SELECT constraint_name, table_name, column_name, ordinal_position, position_in_unique_constraint FROM information_schema.key_column_usage WHERE table_name IN ('c', 'cc', 'pc', 'players')
----
c_parent                c        p_id       1  1
c_pkey                  c        id         1  NULL
cc_pkey                 cc       id         1  NULL
cc_x_y_fkey             cc       x          1  1
cc_x_y_fkey             cc       y          2  2
pc_pkey                 pc       a          1  NULL
pc_pkey                 pc       b          2  NULL
players_pkey            players  id         1  NULL
players_team_fkey       players  team       1  1
players_team_name_fkey  players  team_name  1  1

# Hash-partitioned (hash-sharded, in Cairn) parents and children.
onlyif cairn
statement ok
CREATE TABLE hp (a INT, b INT, PRIMARY KEY (a, b)) PARTITION BY HASH (b) WITH (buckets = 4)

onlyif cairn
statement ok
CREATE TABLE hc (id INT PRIMARY KEY, a INT, b INT, FOREIGN KEY (a, b) REFERENCES hp ON DELETE CASCADE) PARTITION BY HASH (id)

onlyif cairn
statement ok
INSERT INTO hp SELECT g % 3, g FROM generate_series(1, 20) g

onlyif cairn
statement count 20
INSERT INTO hc SELECT g, g % 3, g FROM generate_series(1, 20) g

onlyif cairn
statement error 23503 insert or update on table "hc" violates foreign key constraint "hc_a_b_fkey"
INSERT INTO hc VALUES (21, 0, 1)

onlyif cairn
statement count 6
DELETE FROM hp WHERE a = 0

onlyif cairn
query I
SELECT count(*) FROM hc
----
14

# Many parents in one statement: the checks are batched.
statement ok
CREATE TABLE bp (id INT PRIMARY KEY)

statement ok
CREATE TABLE bc (id INT PRIMARY KEY, p INT REFERENCES bp ON DELETE CASCADE)

statement ok
CREATE INDEX bc_p ON bc (p)

statement ok
INSERT INTO bp SELECT g FROM generate_series(1, 500) g

statement count 1000
INSERT INTO bc SELECT g, (g % 500) + 1 FROM generate_series(1, 1000) g

statement error 23503 insert or update on table "bc" violates foreign key constraint "bc_p_fkey"
INSERT INTO bc SELECT g + 1000, g FROM generate_series(490, 510) g

statement count 250
DELETE FROM bp WHERE id > 250

query II
SELECT count(*), max(p) FROM bc
----
500  250

statement error 23503 update or delete on table "bp" violates foreign key constraint "bc_p_fkey" on table "bc"
UPDATE bp SET id = id + 1000 WHERE id >= 250

# A foreign key to the table itself added by ALTER TABLE, with ON UPDATE
# CASCADE.
statement ok
CREATE TABLE tree (id INT PRIMARY KEY, up INT)

statement ok
INSERT INTO tree VALUES (1, NULL), (2, 1), (3, 1), (4, 3)

statement ok
ALTER TABLE tree ADD FOREIGN KEY (up) REFERENCES tree ON UPDATE CASCADE

statement count 1
UPDATE tree SET id = 10 WHERE id = 1

query II rowsort
SELECT * FROM tree
----
10  NULL
2   10
3   10
4   3

statement error 23503 update or delete on table "tree" violates foreign key constraint "tree_up_fkey" on table "tree"
DELETE FROM tree WHERE id = 3

statement ok
ALTER TABLE tree DROP CONSTRAINT tree_up_fkey

statement count 1
DELETE FROM tree WHERE id = 3

# Renaming tables and columns keeps the foreign keys.
statement ok
CREATE TABLE rp1 (id INT PRIMARY KEY)

statement ok
CREATE TABLE rc1 (pid INT REFERENCES rp1)

statement ok
ALTER TABLE rp1 RENAME TO rp2

statement ok
ALTER TABLE rp2 RENAME COLUMN id TO ident

statement ok
ALTER TABLE rc1 RENAME COLUMN pid TO parent

query TT
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'rc1'::regclass AND contype = 'f'
----
rc1_pid_fkey  FOREIGN KEY (parent) REFERENCES rp2(ident)

statement error 23503 insert or update on table "rc1" violates foreign key constraint "rc1_pid_fkey"
INSERT INTO rc1 VALUES (1)

statement ok
INSERT INTO rp2 VALUES (1)

statement ok
INSERT INTO rc1 VALUES (1)

# An upsert that changes a referenced key.
statement error 23503 update or delete on table "rp2" violates foreign key constraint "rc1_pid_fkey" on table "rc1"
INSERT INTO rp2 VALUES (1) ON CONFLICT (ident) DO UPDATE SET ident = 2

statement ok
INSERT INTO rp2 VALUES (1) ON CONFLICT (ident) DO NOTHING

# Referencing and referenced types that differ but compare.
statement ok
CREATE TABLE tn (n NUMERIC PRIMARY KEY)

statement ok
CREATE TABLE ti (i INT REFERENCES tn)

statement ok
CREATE TABLE tk (i INT PRIMARY KEY)

statement error 42804 foreign key constraint "tn2_n_fkey" cannot be implemented
CREATE TABLE tn2 (n NUMERIC REFERENCES tk)

statement ok
INSERT INTO tn VALUES (1), (2.5)

statement ok
INSERT INTO ti VALUES (1)

statement error 23503
INSERT INTO ti VALUES (3)

statement error 23503
DELETE FROM tn WHERE n = 1

statement count 1
DELETE FROM tn WHERE n = 2.5

statement ok
CREATE TABLE tv (v VARCHAR(10) PRIMARY KEY)

statement ok
CREATE TABLE tt (t TEXT REFERENCES tv)

statement ok
INSERT INTO tv VALUES ('a')

statement ok
INSERT INTO tt VALUES ('a')

statement error 23503
INSERT INTO tt VALUES ('a very long text')

# Deferrable constraints are not supported.
onlyif cairn
statement error 0A000
CREATE TABLE dfr (x INT REFERENCES tv DEFERRABLE INITIALLY DEFERRED)

# Tables and foreign keys created in the transaction that uses them.
statement ok
BEGIN

statement ok
CREATE TABLE xp (id INT PRIMARY KEY)

statement ok
CREATE TABLE xc (id INT REFERENCES xp ON DELETE CASCADE, v INT)

statement ok
INSERT INTO xp VALUES (1), (2)

statement ok
INSERT INTO xc VALUES (1, 10), (2, 20)

statement error 23503
INSERT INTO xc VALUES (3, 30)

statement ok
ROLLBACK

statement ok
BEGIN

statement ok
CREATE TABLE xp (id INT PRIMARY KEY)

statement ok
CREATE TABLE xc (id INT, v INT)

statement ok
INSERT INTO xp VALUES (1), (2)

statement ok
INSERT INTO xc VALUES (1, 10), (2, 20)

statement ok
ALTER TABLE xc ADD FOREIGN KEY (id) REFERENCES xp ON DELETE CASCADE

statement count 1
DELETE FROM xp WHERE id = 1

query II
SELECT * FROM xc
----
2  20

statement ok
COMMIT

statement count 1
DELETE FROM xp

query I
SELECT count(*) FROM xc
----
0
