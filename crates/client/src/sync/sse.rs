//! A small incremental parser for Server-Sent Events. Unlike a general client library it reports
//! comments (the server's keep-alives), because a connection is judged alive by them.

/// One parsed item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    Event {
        event: String,
        id: Option<String>,
        data: String,
    },
    /// A comment line: a keep-alive.
    Comment,
}

/// The longest line accepted; a longer one means the peer is not speaking SSE.
const MAX_LINE: usize = 1 << 20;
/// The most data one event may gather over all its lines: a hostile server cannot grow memory
/// without bound with endless `data:` lines either.
const MAX_EVENT: usize = 1 << 20;

#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    event: String,
    id: Option<String>,
    data: String,
    has_data: bool,
    /// The previous chunk ended in `\r`: a following `\n` belongs to it.
    after_cr: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TooLarge {
    #[error("the event stream has a line longer than 1 MiB")]
    Line,
    #[error("the event stream has an event larger than 1 MiB")]
    Event,
}

impl SseParser {
    /// Feeds bytes; returns the items they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<SseItem>, TooLarge> {
        let mut out = Vec::new();
        for &b in bytes {
            if std::mem::take(&mut self.after_cr) && b == b'\n' {
                continue;
            }
            match b {
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    let line = std::mem::take(&mut self.line);
                    if let Some(item) = self.line_done(&String::from_utf8_lossy(&line)) {
                        out.push(item);
                    }
                    if self.data.len() > MAX_EVENT {
                        return Err(TooLarge::Event);
                    }
                }
                _ => {
                    if self.line.len() >= MAX_LINE {
                        return Err(TooLarge::Line);
                    }
                    self.line.push(b);
                }
            }
        }
        Ok(out)
    }

    fn line_done(&mut self, line: &str) -> Option<SseItem> {
        if line.is_empty() {
            if !self.has_data {
                self.event.clear();
                return None;
            }
            let mut data = std::mem::take(&mut self.data);
            if data.ends_with('\n') {
                data.pop();
            }
            self.has_data = false;
            let event = match std::mem::take(&mut self.event) {
                e if e.is_empty() => "message".to_owned(),
                e => e,
            };
            return Some(SseItem::Event { event, id: self.id.clone(), data });
        }
        if line.starts_with(':') {
            return Some(SseItem::Comment);
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = value.to_owned(),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.id = Some(value.to_owned()),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: &str, id: Option<&str>, data: &str) -> SseItem {
        SseItem::Event { event: event.into(), id: id.map(Into::into), data: data.into() }
    }

    #[test]
    fn events_comments_and_ids_across_chunk_boundaries() {
        let mut p = SseParser::default();
        let input = b": keep-alive\n\nevent: change\nid: 7\ndata: {\"a\":\ndata: 1}\n\ndata: plain\r\n\r\n";
        let mut items = Vec::new();
        for chunk in input.chunks(3) {
            items.extend(p.push(chunk).unwrap());
        }
        assert_eq!(
            items,
            vec![SseItem::Comment, ev("change", Some("7"), "{\"a\":\n1}"), ev("message", Some("7"), "plain")]
        );
    }

    #[test]
    fn a_cr_at_the_end_of_a_chunk_is_one_line_end() {
        let mut p = SseParser::default();
        let mut items = p.push(b"data: x\r").unwrap();
        items.extend(p.push(b"\n\r\n").unwrap());
        assert_eq!(items, vec![ev("message", None, "x")]);
    }

    #[test]
    fn endless_lines_are_refused() {
        let mut p = SseParser::default();
        assert_eq!(p.push(&vec![b'x'; MAX_LINE + 1]), Err(TooLarge::Line));
    }

    #[test]
    fn an_event_of_endless_short_data_lines_is_refused() {
        let mut p = SseParser::default();
        let line = format!("data: {}\n", "x".repeat(1000));
        let mut result = Ok(vec![]);
        for _ in 0..(MAX_EVENT / 1000 + 2) {
            result = p.push(line.as_bytes());
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(TooLarge::Event));
        assert!(p.data.len() <= MAX_EVENT + 1100, "memory stayed bounded: {}", p.data.len());
    }
}
