"""Small hand-made transaction files with answers worked out by hand (see test_segments.py), and a Japanese
spreadsheet export (see test_real_exports.py)."""

from __future__ import annotations

from pathlib import Path

# as of 2024-01-31 (the reference instant is 2024-02-01 00:00 UTC)
HEADER = "id,customer,date,order,amount,product,name\n"
ROWS = [
    # A: three orders (one of two lines), the last on 01-30; one purchase after the reference date
    "1,A,2024-01-30 10:00,O1,100,P1,Alice",
    "2,A,2024-01-30 10:00,O1,50,P2,Alice",
    "3,A,2024-01-10,O2,200,P1,Alice",
    "4,A,2023-12-01,O3,300,P3,Alice",
    "5,A,2024-02-05,O9,999,P3,Alice",
    # B: one order, cancelled the next day (return prefix C)
    "6,B,2024-01-20,O4,100,P1,Bob",
    "7,B,2024-01-21,CO4,-100,P1,Bob",
    # C: two big orders last summer
    "8,C,2023-06-01,O5,1000,P4,Carol",
    "9,C,2023-07-01,O6,1000,P4,Carol",
    # D: one small order on 01-30
    "10,D,2024-01-30,O7,10,P1,Dan",
    # E: one tiny order two years ago
    "11,E,2022-01-01,O8,5,P1,Eve",
    # F: only a return, never a purchase
    "12,F,2024-01-05,CO10,-20,P1,Fay",
    # a guest purchase: no customer
    "13,,2024-01-15,O11,70,P1,",
]


def write_small(path: Path) -> Path:
    path.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    return path


MAPPING = {
    "external_id": "id",
    "customer": "customer",
    "occurred_at": "date",
    "order_id": "order",
    "amount": "amount",
    "customer_name": "name",
}


# A Japanese shop's export as a spreadsheet program writes it: Shift_JIS (CP932), Japanese headers, slashed dates.
JA_HEADER = ["顧客番号", "氏名", "注文日", "伝票番号", "商品コード", "数量", "単価"]
JA_ROWS = [
    ["1001", "山田 太郎", "2026/11/02 10:15", "A-1", "SKU-01", "2", "1500"],
    ["1001", "山田 太郎", "2026/11/02 10:15", "A-1", "SKU-02", "1", "3000"],
    ["1002", "佐藤 花子", "2026/11/15 9:05", "A-2", "SKU-01", "3", "1500"],
    ["1002", "佐藤 花子", "2026/11/16", "CA-2", "SKU-01", "-1", "1500"],  # a return
    ["", "", "2026/11/20 18:00", "A-3", "SKU-03", "1", "800"],  # a guest
]


def write_ja(path: Path, header: list[str], rows: list[list[str]], *, encoding: str, sep: str = ",") -> Path:
    path.write_bytes((sep.join(header) + "\r\n" + "".join(sep.join(r) + "\r\n" for r in rows)).encode(encoding))
    return path
