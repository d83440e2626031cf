"""Test certificates made with the openssl CLI: a CA, and certificates it signs (with SANs, or
dated in the past). The TLS tests and the TLS benchmark (bench/compare.py --part tls) use them."""

import os
import subprocess


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
            f"{name}.pem", "-days", "30", "-subj", f"/CN={name}", cwd=d)


def make_cert(d, name, subject, ca="ca", san=None, expired=False):
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
            f"{name}.csr", "-subj", subject, cwd=d)
    ext = os.path.join(d, f"{name}.ext")
    with open(ext, "w") as f:
        f.write(f"subjectAltName={san}\n" if san else "basicConstraints=CA:FALSE\n")
    if not expired:
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
                "-CAcreateserial", "-days", "30", "-extfile", ext, "-out", f"{name}.pem", cwd=d)
        return
    # `openssl ca` can date a certificate in the past; x509 -req cannot.
    os.makedirs(os.path.join(d, "cadb"), exist_ok=True)
    open(os.path.join(d, "cadb", "index.txt"), "w").close()
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca=x\n[x]\ndatabase=cadb/index.txt\nnew_certs_dir=cadb\n"
                "serial=cadb/serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n")
    with open(os.path.join(d, "cadb", "serial"), "w") as f:
        f.write("1000\n")
    openssl("ca", "-batch", "-config", "ca.cnf", "-cert", f"{ca}.pem", "-keyfile", f"{ca}.key",
            "-in", f"{name}.csr", "-out", f"{name}.pem", "-startdate", "20200101000000Z",
            "-enddate", "20200102000000Z", "-notext", cwd=d)
