"""Reading dumps without a server: tables, rows per table, completion, database statements."""

import gzip

import pytest
from ansible.module_utils.backup import BackupError
from ansible.module_utils.backup.dumpfile import DumpScanner, scan

# The shape MariaDB 10.11's mariadb-dump writes: a row per line, views, triggers.
MARIADB_1011 = b"""/*M!999999\\- enable the sandbox mode */
-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)
--
-- Host: 127.0.0.1    Database: shop
/*!40101 SET NAMES utf8mb4 */;
DROP SEQUENCE IF EXISTS `seq1`;
CREATE SEQUENCE `seq1` start with 1 minvalue 1 maxvalue 9223372036854775806 increment by 1 cache 1000 nocycle ENGINE=InnoDB;
DO SETVAL(`seq1`, 1, 0);
/*!50001 CREATE VIEW `big_orders` AS SELECT
 NULL AS `id` */;
DROP TABLE IF EXISTS `customers`;
CREATE TABLE `customers` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `note` text DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=4 DEFAULT CHARSET=latin1;
LOCK TABLES `customers` WRITE;
INSERT INTO `customers` VALUES
(1,'likes (brackets), and \\'quotes\\''),
(2,'line\\nbreak ),( and ;'),
(3,NULL);
UNLOCK TABLES;
CREATE TABLE `empty_t` (
  `id` int(11) DEFAULT NULL
);
CREATE TABLE `odd ``name`` (x)` (
  `a` int(11) DEFAULT NULL
);
INSERT INTO `odd ``name`` (x)` VALUES
(1),
(2);
DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER t_bi BEFORE INSERT ON customers FOR EACH ROW SET NEW.id = NEW.id */;;
DELIMITER ;

-- Dump completed on 2026-11-26 18:43:39
"""

# MySQL's mysqldump and older MariaDB: one statement per line, several per table.
ONE_LINE = b"""CREATE TABLE `t` (
  `a` varchar(10)
);
INSERT INTO `t` VALUES ('a\\\\'),('('),('\\')'),('x');
INSERT INTO `t` VALUES (_binary 'b'),(b'0101'),(0xFF28);
-- Dump completed on 2026-01-01  0:00:00
"""

SKIP_EXTENDED_COMPLETE = b"""CREATE TABLE IF NOT EXISTS `t` (
  `a (1)` int
);
INSERT INTO `t` (`a (1)`) VALUES (1);
INSERT IGNORE INTO `t` (`a (1)`) VALUES (2);
REPLACE INTO `t` (`a (1)`) VALUES (3);
-- Dump completed
"""


def scanned(text):
    scanner = DumpScanner()
    for line in text.splitlines(keepends=True):
        scanner.feed(line)
    return scanner


def test_a_row_per_line_dump_counts_rows_per_table_whatever_the_strings_hold():
    scanner = scanned(MARIADB_1011)
    assert scanner.tables == {"customers": 3, "empty_t": 0, "odd `name` (x)": 2}
    assert scanner.complete
    assert scanner.problems() == []


def test_a_statement_per_line_dump_counts_every_statement():
    scanner = scanned(ONE_LINE)
    assert scanner.tables == {"t": 7}
    assert scanner.complete


def test_single_row_complete_ignore_and_replace_inserts_count():
    assert scanned(SKIP_EXTENDED_COMPLETE).tables == {"t": 3}


def test_a_dump_without_its_last_line_is_incomplete():
    lines = MARIADB_1011.splitlines(keepends=True)
    scanner = scanned(b"".join(lines[:-1]))
    assert not scanner.complete
    assert scanner.problems() == [
        "it does not end with the dumper's '-- Dump completed' line: it was cut short"
    ]


def test_a_completion_line_in_the_middle_does_not_count():
    scanner = scanned(b"-- Dump completed on 2026-01-01\n" + ONE_LINE.rsplit(b"\n-- Dump", 1)[0])
    assert not scanner.complete


@pytest.mark.parametrize(
    "statement",
    [
        b"USE `shop`;\n",
        b"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop` /*!40100 DEFAULT CHARACTER SET latin1 */;\n",
        b"/*!40000 DROP DATABASE IF EXISTS `shop`*/;\n",
        b"create schema other;\n",
    ],
)
def test_a_dump_that_names_a_database_is_refused(statement):
    scanner = scanned(statement + ONE_LINE)
    (problem,) = scanner.problems()
    assert problem.startswith(f"it names a database ({statement.strip().decode()[:120]})")


def test_a_row_that_looks_like_a_statement_is_data():
    scanner = scanned(
        b"CREATE TABLE `t` (\n);\nINSERT INTO `t` VALUES\n('x'),\n('USE `shop`;');\n-- Dump completed\n"
    )
    assert scanner.problems() == []
    assert scanner.tables == {"t": 2}


def test_scan_reads_a_gzip_file(tmp_path):
    path = tmp_path / "d.sql.gz"
    path.write_bytes(gzip.compress(MARIADB_1011))
    assert scan(str(path)).tables == {"customers": 3, "empty_t": 0, "odd `name` (x)": 2}


def test_scan_names_a_truncated_or_damaged_file(tmp_path):
    data = gzip.compress(MARIADB_1011)
    path = tmp_path / "d.sql.gz"
    path.write_bytes(data[:-30])
    with pytest.raises(BackupError, match="the compressed file is truncated"):
        scan(str(path))
    damaged = bytearray(data)
    damaged[-6] ^= 0xFF  # the CRC32 of the data
    path.write_bytes(bytes(damaged))
    with pytest.raises(BackupError, match="the compressed file is damaged"):
        scan(str(path))
    path.write_bytes(MARIADB_1011)
    with pytest.raises(BackupError, match=r"damaged \(Not a gzipped file"):
        scan(str(path))
