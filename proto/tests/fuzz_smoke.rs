//! A few seconds of each fuzz target's body in the ordinary test suite:
//! over the committed seed corpus (`fuzz/corpus/<target>/`) and a few
//! thousand inputs mutated from it by a seeded generator, so the targets
//! keep compiling and their properties keep holding without cargo-fuzz.
//! The long runs are recorded in `fuzz/README.md`.

use std::path::PathBuf;
use wardpage_proto::fuzzing;

/// Generated inputs per target.
const MUTANTS: usize = 20_000;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| std::fs::read(entry.expect("corpus entry").path()).expect("corpus file"))
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

/// xorshift64*: reproducible, and enough to shake the seeds.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Flips, inserts, deletes and splices bytes, like a fuzzer's mutators.
fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut v = seeds[rng.below(seeds.len())].clone();
    for _ in 0..=rng.below(8) {
        let at = rng.below(v.len() + 1);
        match rng.below(5) {
            0 if at < v.len() => v[at] ^= 1 << rng.below(8),
            1 => v.insert(at, rng.next() as u8),
            2 if at < v.len() => {
                v.remove(at);
            }
            3 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len());
                let to = (from + rng.below(64)).min(other.len());
                v.splice(at..at, other[from..to].iter().copied());
            }
            _ => {
                let special = [
                    "\\u202e",
                    "\"",
                    "null",
                    "{}",
                    "\u{2028}",
                    "9999999999999999999",
                ];
                let s = special[rng.below(special.len())].as_bytes();
                v.splice(at..at, s.iter().copied());
            }
        }
    }
    v
}

fn smoke(target: &str, body: fn(&[u8])) {
    let seeds = corpus(target);
    for seed in &seeds {
        body(seed);
    }
    let mut rng = Rng(0x5eed_0000 ^ target.len() as u64);
    for _ in 0..MUTANTS {
        body(&mutate(&mut rng, &seeds));
    }
}

#[test]
fn fuzz_smoke_frame() {
    smoke("frame", fuzzing::frame);
}

#[test]
fn fuzz_smoke_command() {
    smoke("command", fuzzing::command);
}

#[test]
fn fuzz_smoke_login_body() {
    smoke("login_body", fuzzing::login_body);
}
