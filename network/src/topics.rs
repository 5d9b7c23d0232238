//! Gossip topics. Each names the chain by its genesis hash, so nodes of different chains never
//! share a mesh: `/i8o8i/<genesis hex>/blocks` and `/i8o8i/<genesis hex>/txs`.

use std::fmt;
use std::str::FromStr;

use i8o8i_primitives::BlockHash;

/// What a topic carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TopicKind {
    /// SCALE-encoded [`CompactBlock`](crate::compact::CompactBlock)s, announced by their
    /// producer and relayed once validated.
    Blocks,
    /// SCALE-encoded transactions accepted to a mempool.
    Transactions,
}

impl TopicKind {
    fn suffix(self) -> &'static str {
        match self {
            TopicKind::Blocks => "blocks",
            TopicKind::Transactions => "txs",
        }
    }
}

/// A gossip topic of one chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Topic {
    /// The chain's genesis hash.
    pub genesis: BlockHash,
    /// What it carries.
    pub kind: TopicKind,
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/i8o8i/{}/{}", self.genesis, self.kind.suffix())
    }
}

/// A topic string that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an i8o8i topic: {0:?}")]
pub struct UnknownTopic(String);

impl FromStr for Topic {
    type Err = UnknownTopic;

    fn from_str(s: &str) -> Result<Topic, UnknownTopic> {
        let unknown = || UnknownTopic(s.chars().take(200).collect());
        let rest = s.strip_prefix("/i8o8i/").ok_or_else(unknown)?;
        let (genesis, kind) = rest.split_once('/').ok_or_else(unknown)?;
        let kind = match kind {
            "blocks" => TopicKind::Blocks,
            "txs" => TopicKind::Transactions,
            _ => return Err(unknown()),
        };
        // Only the canonical lower-case hex the Display impl writes.
        if genesis.len() != 64
            || !genesis
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(unknown());
        }
        let genesis = genesis.parse().map_err(|_| unknown())?;
        Ok(Topic { genesis, kind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip_and_foreign_strings_are_refused() {
        let genesis = BlockHash::from_byte_array([0xab; 32]);
        for kind in [TopicKind::Blocks, TopicKind::Transactions] {
            let t = Topic { genesis, kind };
            assert_eq!(t.to_string().parse::<Topic>(), Ok(t));
        }
        let good = Topic {
            genesis,
            kind: TopicKind::Blocks,
        }
        .to_string();
        assert!(good.starts_with("/i8o8i/"));
        for bad in [
            String::new(),
            "/i8o8i/".into(),
            "/i8o8i//blocks".into(),
            good.replace("blocks", "blockz"),
            good.replace("/i8o8i/", "/eth/"),
            good.to_uppercase(),
            format!("{good}/"),
            format!("{good}\0"),
            good.replacen('a', "g", 1),
            format!("/i8o8i/{}/blocks", "a".repeat(63)),
            format!("/i8o8i/{}/blocks", "ä".repeat(32)),
            "/i8o8i/../../etc/passwd".into(),
            "x".repeat(100_000),
        ] {
            assert!(bad.parse::<Topic>().is_err(), "{bad:?} parsed");
        }
    }
}
