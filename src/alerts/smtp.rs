//! A small SMTP client for alert email: one message per connection to a relay on a trusted
//! network (RFC 5321: EHLO, MAIL, RCPT, DATA, QUIT), UTF-8 subject as RFC 2047 base64. The relay
//! takes care of TLS and onward delivery.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_secs(20);

/// Sends one plain-text message. Errors say which step the relay refused.
pub async fn send(
    host: &str,
    port: u16,
    from: &str,
    to: &str,
    subject: &str,
    body: &str,
    message_id: &str,
) -> Result<(), String> {
    if [from, to]
        .iter()
        .any(|a| a.contains(['\r', '\n', '<', '>']))
        || !to.contains('@')
    {
        return Err("not an email address".into());
    }
    let talk = async {
        let stream = TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        expect(&mut read, "220", "greeting").await?;
        for (command, code, step) in [
            ("EHLO tipline\r\n".to_owned(), "250", "EHLO"),
            (format!("MAIL FROM:<{from}>\r\n"), "250", "MAIL FROM"),
            (format!("RCPT TO:<{to}>\r\n"), "250", "RCPT TO"),
            ("DATA\r\n".to_owned(), "354", "DATA"),
        ] {
            write
                .write_all(command.as_bytes())
                .await
                .map_err(|e| format!("{step}: {e}"))?;
            expect(&mut read, code, step).await?;
        }
        let message = format!(
            "From: <{from}>\r\nTo: <{to}>\r\nSubject: {}\r\nMessage-ID: <{message_id}@tipline>\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n.\r\n",
            encoded_word(subject),
            dot_stuffed(body)
        );
        write
            .write_all(message.as_bytes())
            .await
            .map_err(|e| format!("message: {e}"))?;
        expect(&mut read, "250", "end of data").await?;
        let _ = write.write_all(b"QUIT\r\n").await;
        Ok(())
    };
    tokio::time::timeout(TIMEOUT, talk)
        .await
        .map_err(|_| "the relay did not answer in time".to_owned())?
}

/// Reads a (possibly multi-line) reply and checks its code.
async fn expect<R: AsyncBufReadExt + Unpin>(
    read: &mut R,
    code: &str,
    step: &str,
) -> Result<(), String> {
    loop {
        let mut line = String::new();
        let n = read
            .read_line(&mut line)
            .await
            .map_err(|e| format!("{step}: {e}"))?;
        if n == 0 {
            return Err(format!("{step}: the relay closed the connection"));
        }
        if !line.starts_with(code) {
            return Err(format!("{step}: the relay answered {}", line.trim_end()));
        }
        // "250-..." continues, "250 ..." ends.
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok(());
        }
    }
}

/// Body lines, CRLF-terminated, with a leading dot doubled.
fn dot_stuffed(body: &str) -> String {
    body.lines()
        .map(|l| {
            if l.starts_with('.') {
                format!(".{l}")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// `=?utf-8?b?...?=` for a header that may hold Hindi.
fn encoded_word(text: &str) -> String {
    format!(
        "=?utf-8?b?{}?=",
        crate::crypto::encode_base64(text.replace(['\r', '\n'], " ").as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_starting_with_a_dot_are_doubled() {
        assert_eq!(dot_stuffed("a\n.b\n..c"), "a\r\n..b\r\n...c");
    }
}
