"""Command-line commands of the certificates domain: ``onewindow certificates import FILE``."""

from __future__ import annotations

from pathlib import Path

import typer

from onewindow.cli_support import CLI_ACTOR, app, database_session, user_errors
from onewindow.core.clock import SystemClock

certificates_app = typer.Typer(help="电子证照库", no_args_is_help=True)
app.add_typer(certificates_app, name="certificates")


IMPORT_HELP = (
    "从 CSV / JSON 导入部门已有的证照登记；先校验全部行，有任何错误则不写入。"
    "CSV 表头可用中文或英文：证照类型 type、证照编号 number、持证主体代码 holder_id、持证主体名称 holder_name、"
    "发证机关 issuer、发证日期 issued_date、有效期至 expires_date（长期有效留空）、状态 status、校验码 check_code；"
    "其他列存入证照数据。JSON 为同样字段的对象列表"
)


@certificates_app.command("import", help=IMPORT_HELP)
@user_errors
def import_certificates(
    file: Path = typer.Argument(..., help="文件：.csv（UTF-8，首行为表头）或 .json（记录列表）"),
) -> None:
    """Validate every row (type, holder ID checksum, dates, duplicates), then write them all, or nothing."""
    from onewindow.certificates import service
    from onewindow.certificates.files import read_rows

    rows, first_row = read_rows(file)
    with database_session() as session:
        result = service.import_certificates(session, clock=SystemClock(), actor=CLI_ACTOR, rows=rows,
                                             first_row=first_row)
    typer.echo(f"导入完成：新增 {result.created}，更新 {result.updated}，未变 {result.unchanged}")
