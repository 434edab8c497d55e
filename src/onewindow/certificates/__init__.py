"""电子证照: the certificate library, 免提交 lookup at intake, issue on approval, public verification."""
