"""A real SMTP server for the tests (aiosmtpd, Debian python3-aiosmtpd) that keeps what it accepts.

    python3 smtp_sink.py PORT DIR

Listens on 127.0.0.1:PORT and writes every accepted message to DIR/mail/NNNNNN.eml (numbered from
000001 in the order the messages were accepted; written to a dot file and renamed, so a reader
never sees half a message):

    MAIL FROM:<sender>
    RCPT TO:<recipient>          one line per accepted recipient
    AUTH <login>                 only when the client authenticated
    (empty line)
    the message bytes exactly as received (dot-unstuffed, CRLF line ends)

Behaviour is steered by files in DIR, read again for every command so a running test can change it:

    DIR/refuse   lines "RECIPIENT REPLY" or "* REPLY": RCPT TO for that recipient (or for any)
                 is answered with REPLY, e.g. "* 451 4.3.0 Try again later" or
                 "bad@example.org 550 5.1.1 No such user"; "DATA REPLY": the end of every
                 message's data is answered with REPLY (and the message is not kept).
    DIR/auth     one line "LOGIN PASSWORD": AUTH (PLAIN or LOGIN, offered without TLS) is required
                 and must match; without the file AUTH is offered and any MAIL is accepted.
"""
import asyncio
import os
import sys

from aiosmtpd.smtp import SMTP, AuthResult


class Sink:
    def __init__(self, directory):
        self.dir = directory
        self.mail_dir = os.path.join(directory, "mail")
        os.makedirs(self.mail_dir, exist_ok=True)
        # A restarted server numbers on after what it kept.
        self.seq = max((int(n[:-4]) for n in os.listdir(self.mail_dir)
                        if n.endswith(".eml") and n[:-4].isdigit()), default=0)

    def _read(self, name):
        try:
            with open(os.path.join(self.dir, name), encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def credentials(self):
        text = self._read("auth")
        if text is None:
            return None
        login, _, password = text.strip().partition(" ")
        return login, password

    def refusal(self, who):
        """The reply for RCPT TO:<who> (or, with who "DATA", for the end of data), or None."""
        text = self._read("refuse")
        if text is None:
            return None
        for line in text.splitlines():
            rule, _, reply = line.strip().partition(" ")
            if reply and (rule == who or (rule == "*" and who != "DATA")):
                return reply
        return None

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        want = self.credentials()
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        if want is not None and (login, password) != want:
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=login)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.credentials() is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.refusal(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self.refusal("DATA")
        if reply is not None:
            return reply
        self.seq += 1
        head = "MAIL FROM:<%s>\n" % envelope.mail_from
        head += "".join("RCPT TO:<%s>\n" % r for r in envelope.rcpt_tos)
        if session.authenticated:
            head += "AUTH %s\n" % session.auth_data
        head += "\n"
        name = "%06d.eml" % self.seq
        tmp = os.path.join(self.mail_dir, "." + name)
        with open(tmp, "wb") as f:
            f.write(head.encode("utf-8"))
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(self.mail_dir, name))
        return "250 OK queued as %s" % name


def main():
    port = int(sys.argv[1])
    sink = Sink(sys.argv[2])
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        return SMTP(sink, hostname="sink.test", authenticator=sink.authenticate,
                    auth_require_tls=False, loop=loop)

    loop.run_until_complete(loop.create_server(factory, "127.0.0.1", port))
    loop.run_forever()


if __name__ == "__main__":
    main()
