use std::collections::HashMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    Identifier(String),
    Number(f64),
    StringLiteral(String),
    Operator(char),
    LeftParen,
    RightParen,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Identifier(name) => write!(f, "{name}"),
            Token::Number(value) => write!(f, "{value}"),
            Token::StringLiteral(text) => write!(f, "\"{text}\""),
            Token::Operator(op) => write!(f, "{op}"),
            Token::LeftParen => write!(f, "("),
            Token::RightParen => write!(f, ")"),
        }
    }
}

pub struct Tokenizer<'a> {
    source: &'a str,
    position: usize,
    keywords: HashMap<&'static str, u8>,
}

impl<'a> Tokenizer<'a> {
    pub fn new(source: &'a str) -> Self {
        let keywords = HashMap::from([("let", 1), ("fn", 2), ("return", 3)]);
        Self { source, position: 0, keywords }
    }

    pub fn next_token(&mut self) -> Option<Token> {
        let rest = &self.source[self.position..];
        let trimmed = rest.trim_start();
        self.position += rest.len() - trimmed.len();
        let first = trimmed.chars().next()?;
        if first.is_ascii_digit() {
            let end = trimmed.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(trimmed.len());
            self.position += end;
            return trimmed[..end].parse().ok().map(Token::Number);
        }
        self.position += first.len_utf8();
        Some(Token::Operator(first))
    }
}
