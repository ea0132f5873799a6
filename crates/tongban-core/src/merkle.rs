//! RFC 6962 / RFC 9162 Merkle tree over the ledger: tree head, inclusion proofs and
//! consistency proofs, and their verification — so anyone holding a signed checkpoint can
//! check that an event is in the ledger and that the ledger only ever grew.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    h.finalize().into()
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Largest power of two strictly smaller than n (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// MTH(D[n]) over leaf hashes.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// PATH(m, D[n]): the audit path for leaf `m`.
pub fn inclusion_proof(m: usize, leaves: &[Hash]) -> Option<Vec<Hash>> {
    if m >= leaves.len() {
        return None;
    }
    let mut out = Vec::new();
    path(m, leaves, &mut out);
    Some(out)
}

fn path(m: usize, d: &[Hash], out: &mut Vec<Hash>) {
    let n = d.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path(m, &d[..k], out);
        out.push(root(&d[k..]));
    } else {
        path(m - k, &d[k..], out);
        out.push(root(&d[..k]));
    }
}

/// PROOF(m, D[n]): proves the tree of size m is a prefix of the tree of size n.
pub fn consistency_proof(m: usize, leaves: &[Hash]) -> Option<Vec<Hash>> {
    if m == 0 || m > leaves.len() {
        return None;
    }
    let mut out = Vec::new();
    subproof(m, leaves, true, &mut out);
    Some(out)
}

fn subproof(m: usize, d: &[Hash], complete: bool, out: &mut Vec<Hash>) {
    let n = d.len();
    if m == n {
        if !complete {
            out.push(root(d));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, &d[..k], complete, out);
        out.push(root(&d[k..]));
    } else {
        subproof(m - k, &d[k..], false, out);
        out.push(root(&d[..k]));
    }
}

/// RFC 9162 §2.1.3.2.
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && &r == root
}

/// RFC 9162 §2.1.4.2.
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> bool {
    if first == 0 || first > second {
        return false;
    }
    if first == second {
        return proof.is_empty() && first_root == second_root;
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_root);
    }
    path.extend_from_slice(proof);
    let (mut f, mut s) = (first - 1, second - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    &fr == first_root && &sr == second_root && s == 0
}

/// The text a checkpoint signature covers: origin, size, root (hex) and time, one per line.
pub fn checkpoint_text(origin: &str, size: u64, root: &Hash, time: &str) -> String {
    format!("{origin}\n{size}\n{}\n{time}\n", hex::encode(root))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("event {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn known_roots() {
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // RFC 6962 test vector: the empty leaf.
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        let l = leaves(3);
        assert_eq!(root(&l), node_hash(&node_hash(&l[0], &l[1]), &l[2]));
    }

    #[test]
    fn tampering_breaks_proofs() {
        let l = leaves(10);
        let r = root(&l);
        let p = inclusion_proof(4, &l).unwrap();
        assert!(verify_inclusion(&l[4], 4, 10, &p, &r));
        assert!(!verify_inclusion(&l[5], 4, 10, &p, &r));
        assert!(!verify_inclusion(&l[4], 5, 10, &p, &r));
        let l11 = leaves(11);
        assert!(!verify_inclusion(&l[4], 4, 11, &p, &root(&l11)));
        let c = consistency_proof(6, &l).unwrap();
        let r6 = root(&l[..6]);
        assert!(verify_consistency(6, 10, &r6, &r, &c));
        let mut forked = l.clone();
        forked[2] = leaf_hash(b"edited");
        assert!(!verify_consistency(6, 10, &root(&forked[..6]), &r, &c));
        assert!(inclusion_proof(10, &l).is_none());
        assert!(consistency_proof(0, &l).is_none());
    }

    /// The reference vectors of the Certificate Transparency implementations: the roots of
    /// the first 1…8 of eight standard leaves.
    #[test]
    fn certificate_transparency_reference_roots() {
        let inputs: [&[u8]; 8] = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        let expected = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        let l: Vec<Hash> = inputs.iter().map(|i| leaf_hash(i)).collect();
        for n in 1..=8 {
            assert_eq!(hex::encode(root(&l[..n])), expected[n - 1], "size {n}");
        }
    }

    proptest! {
        #[test]
        fn every_inclusion_proof_verifies(n in 1usize..200, pick in 0usize..1000) {
            let l = leaves(n);
            let m = pick % n;
            let r = root(&l);
            let p = inclusion_proof(m, &l).unwrap();
            prop_assert!(verify_inclusion(&l[m], m as u64, n as u64, &p, &r));
        }

        #[test]
        fn every_consistency_proof_verifies(n in 1usize..200, pick in 0usize..1000) {
            let l = leaves(n);
            let m = pick % n + 1;
            let p = consistency_proof(m, &l).unwrap();
            prop_assert!(verify_consistency(m as u64, n as u64, &root(&l[..m]), &root(&l), &p));
            if m < n {
                // A different older root must not verify.
                prop_assert!(!verify_consistency(m as u64, n as u64, &leaf_hash(b"x"), &root(&l), &p));
            }
        }
    }
}

/// The right edge of the tree: roots of the perfect subtrees that make up the first
/// `size` leaves, largest first. Appending is O(log n) and so is the root, so a signed
/// checkpoint never has to read the whole ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    pub size: u64,
    pub nodes: Vec<Hash>,
}

impl Frontier {
    pub fn push(&mut self, leaf: Hash) {
        let mut h = leaf;
        let mut k = self.size;
        while k & 1 == 1 {
            let left = self.nodes.pop().expect("a node for every set bit");
            h = node_hash(&left, &h);
            k >>= 1;
        }
        self.nodes.push(h);
        self.size += 1;
    }

    pub fn root(&self) -> Hash {
        let mut it = self.nodes.iter().rev();
        match it.next() {
            None => empty_root(),
            Some(last) => it.fold(*last, |acc, left| node_hash(left, &acc)),
        }
    }

    /// `size:hex,hex,…`
    pub fn encode(&self) -> String {
        format!(
            "{}:{}",
            self.size,
            self.nodes
                .iter()
                .map(hex::encode)
                .collect::<Vec<_>>()
                .join(",")
        )
    }

    pub fn decode(s: &str) -> Option<Frontier> {
        let (size, nodes) = s.split_once(':')?;
        let nodes = nodes
            .split(',')
            .filter(|x| !x.is_empty())
            .map(|x| hex::decode(x).ok()?.try_into().ok())
            .collect::<Option<Vec<Hash>>>()?;
        let size: u64 = size.parse().ok()?;
        (nodes.len() as u32 == size.count_ones()).then_some(Frontier { size, nodes })
    }
}

#[cfg(test)]
mod frontier_tests {
    use super::*;

    #[test]
    fn frontier_root_equals_the_tree_root_for_every_size() {
        let leaves: Vec<Hash> = (0..300)
            .map(|i| leaf_hash(format!("e{i}").as_bytes()))
            .collect();
        let mut f = Frontier::default();
        assert_eq!(f.root(), empty_root());
        for (n, l) in leaves.iter().enumerate() {
            f.push(*l);
            assert_eq!(f.root(), root(&leaves[..=n]), "size {}", n + 1);
            assert_eq!(Frontier::decode(&f.encode()), Some(f.clone()));
        }
        assert_eq!(Frontier::decode("3:00"), None);
    }
}

/// A perfect subtree of the tree: the `2^level` leaves starting at `index << level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Node {
    pub level: u32,
    pub index: u64,
}

impl Node {
    pub fn children(self) -> Option<(Node, Node)> {
        (self.level > 0).then(|| {
            let l = Node {
                level: self.level - 1,
                index: self.index * 2,
            };
            (
                l,
                Node {
                    index: l.index + 1,
                    ..l
                },
            )
        })
    }
}

impl Frontier {
    /// Appends a leaf and returns the perfect subtrees it completes, the leaf itself first:
    /// stored as they appear, they let any proof be assembled from O(log n) hashes.
    pub fn push_completing(&mut self, leaf: Hash) -> Vec<(Node, Hash)> {
        let index = self.size;
        let mut out = vec![(Node { level: 0, index }, leaf)];
        let mut h = leaf;
        let mut k = index;
        let mut level = 0;
        while k & 1 == 1 {
            let left = self.nodes.pop().expect("a node for every set bit");
            h = node_hash(&left, &h);
            k >>= 1;
            level += 1;
            out.push((
                Node {
                    level,
                    index: index >> level,
                },
                h,
            ));
        }
        self.nodes.push(h);
        self.size += 1;
        out
    }

    /// The frontier of the first `size` leaves from their stored perfect subtrees.
    pub fn from_nodes(size: u64, get: impl Fn(Node) -> Option<Hash>) -> Option<Frontier> {
        let nodes = perfect_subtrees(0, size)
            .into_iter()
            .map(get)
            .collect::<Option<Vec<_>>>()?;
        Some(Frontier { size, nodes })
    }
}

/// The perfect subtrees that make up leaves `[lo, hi)`, left to right, for a range that
/// occurs in the tree (from its root's recursive split): `lo` is a multiple of the
/// smallest power of two ≥ `hi - lo`, or the range starts at 0.
pub fn perfect_subtrees(lo: u64, hi: u64) -> Vec<Node> {
    let mut out = Vec::new();
    let mut at = lo;
    while at < hi {
        // The largest aligned power of two that starts at `at` and fits.
        let mut level = 0u32;
        while at.is_multiple_of(1u64 << (level + 1)) && at + (1u64 << (level + 1)) <= hi {
            level += 1;
        }
        out.push(Node {
            level,
            index: at >> level,
        });
        at += 1u64 << level;
    }
    out
}

/// MTH of leaves `[lo, hi)` from the hashes of [`perfect_subtrees`] (in that order).
pub fn fold_subtrees(hashes: &[Hash]) -> Hash {
    let mut it = hashes.iter().rev();
    match it.next() {
        None => empty_root(),
        Some(last) => it.fold(*last, |acc, left| node_hash(left, &acc)),
    }
}

/// PATH(m, D[n]) as leaf ranges: each proof element is the MTH of one range.
pub fn inclusion_ranges(m: u64, n: u64) -> Option<Vec<(u64, u64)>> {
    if m >= n {
        return None;
    }
    let mut out = Vec::new();
    let (mut lo, mut hi) = (0u64, n);
    // Top-down, then reversed: the path lists the leaf's sibling first.
    while hi - lo > 1 {
        let k = split((hi - lo) as usize) as u64;
        if m < lo + k {
            out.push((lo + k, hi));
            hi = lo + k;
        } else {
            out.push((lo, lo + k));
            lo += k;
        }
    }
    out.reverse();
    Some(out)
}

/// PROOF(m, D[n]) as leaf ranges.
pub fn consistency_ranges(m: u64, n: u64) -> Option<Vec<(u64, u64)>> {
    if m == 0 || m > n {
        return None;
    }
    let mut out = Vec::new();
    let (mut lo, mut hi, mut mm, mut complete) = (0u64, n, m, true);
    loop {
        let size = hi - lo;
        if mm == size {
            if !complete {
                out.push((lo, hi));
            }
            break;
        }
        let k = split(size as usize) as u64;
        if mm <= k {
            out.push((lo + k, hi));
            hi = lo + k;
        } else {
            out.push((lo, lo + k));
            lo += k;
            mm -= k;
            complete = false;
        }
    }
    out.reverse();
    Some(out)
}

#[cfg(test)]
mod node_tests {
    use super::*;
    use std::collections::HashMap;

    fn stored(leaves: &[Hash]) -> HashMap<Node, Hash> {
        let mut f = Frontier::default();
        leaves.iter().flat_map(|l| f.push_completing(*l)).collect()
    }

    fn range_hash(nodes: &HashMap<Node, Hash>, (lo, hi): (u64, u64)) -> Hash {
        let hs: Vec<Hash> = perfect_subtrees(lo, hi).iter().map(|n| nodes[n]).collect();
        fold_subtrees(&hs)
    }

    /// Proofs assembled from stored subtrees equal the leaf-based ones for every size and
    /// index up to 130, and no proof needs more than O(log² n) stored hashes.
    #[test]
    fn proofs_from_stored_subtrees_match_the_leaf_computation() {
        let leaves: Vec<Hash> = (0..130)
            .map(|i| leaf_hash(format!("e{i}").as_bytes()))
            .collect();
        let nodes = stored(&leaves);
        assert_eq!(
            nodes.len(),
            2 * leaves.len() - 130usize.count_ones() as usize
        );
        for n in 1..=leaves.len() {
            let d = &leaves[..n];
            assert_eq!(range_hash(&nodes, (0, n as u64)), root(d));
            let f = Frontier::from_nodes(n as u64, |x| nodes.get(&x).copied()).unwrap();
            assert_eq!(f.root(), root(d));
            for m in 0..n {
                let ranges = inclusion_ranges(m as u64, n as u64).unwrap();
                let got: Vec<Hash> = ranges.iter().map(|r| range_hash(&nodes, *r)).collect();
                assert_eq!(got, inclusion_proof(m, d).unwrap(), "inclusion {m} of {n}");
                let ranges = consistency_ranges(m as u64 + 1, n as u64).unwrap();
                let got: Vec<Hash> = ranges.iter().map(|r| range_hash(&nodes, *r)).collect();
                assert_eq!(
                    got,
                    consistency_proof(m + 1, d).unwrap(),
                    "consistency {} to {n}",
                    m + 1
                );
            }
        }
        assert!(inclusion_ranges(5, 5).is_none());
        assert!(consistency_ranges(0, 5).is_none());
    }

    #[test]
    fn a_proof_in_a_huge_tree_names_few_subtrees() {
        let n = 1u64 << 40 | 12345;
        let ranges = inclusion_ranges(987_654_321, n).unwrap();
        let count: usize = ranges
            .iter()
            .map(|(a, b)| perfect_subtrees(*a, *b).len())
            .sum();
        assert!(ranges.len() <= 41 && count <= 41 * 41, "{count}");
        let ranges = consistency_ranges(1 << 39 | 7, n).unwrap();
        let count: usize = ranges
            .iter()
            .map(|(a, b)| perfect_subtrees(*a, *b).len())
            .sum();
        assert!(count <= 41 * 41, "{count}");
    }
}

/// The partition of the ledger a case's events go to: a stable hash of the case id (the
/// SplitMix64 finaliser, fixed forever: changing it would move cases between chains),
/// reduced modulo the number of partitions, which is fixed when the database is created.
/// Returned as the non-negative key the store reduces in SQL (`key % partitions`).
pub fn partition_key(case_id: i64) -> i64 {
    let mut z = (case_id as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 1) as i64
}

/// [`partition_key`] reduced to one of `partitions` partitions.
pub fn partition_of(case_id: i64, partitions: u32) -> u32 {
    (partition_key(case_id) % i64::from(partitions.max(1))) as u32
}

/// The leaf bytes that stand for one partition's head in the combined tree a checkpoint of a
/// partitioned ledger signs: partition number, its size and its RFC 6962 root (hex).
pub fn partition_head_leaf(part: u32, size: u64, root: &Hash) -> String {
    format!(
        "tongban/ledger/partition\n{part}\n{size}\n{}\n",
        hex::encode(root)
    )
}

/// The root a checkpoint of a partitioned ledger signs: the RFC 6962 tree over the
/// partitions' head leaves ([`partition_head_leaf`]) in partition order, so one signed root
/// proves every partition's chain. `heads` is (partition, size, root), partitions 0..n.
pub fn combined_root(heads: &[(u32, u64, Hash)]) -> Hash {
    let leaves: Vec<Hash> = heads
        .iter()
        .map(|(p, s, r)| leaf_hash(partition_head_leaf(*p, *s, r).as_bytes()))
        .collect();
    root(&leaves)
}

#[cfg(test)]
mod partition_tests {
    use super::*;

    /// The partition of a case never changes: these values are fixed (a change would move
    /// existing cases' events to another chain and break every stored proof).
    #[test]
    fn partition_choice_is_stable() {
        let keys: Vec<i64> = (1..=4).map(partition_key).collect();
        assert_eq!(
            keys,
            [
                5_225_608_189_600_411_232,
                5_452_762_862_878_174_055,
                1_046_394_712_501_569_526,
                3_979_477_524_527_301_989
            ]
        );
        assert_eq!(
            (1..=12).map(|id| partition_of(id, 16)).collect::<Vec<_>>(),
            [0, 7, 6, 5, 13, 0, 11, 11, 2, 5, 14, 1]
        );
        assert!((1..=1000).all(|id| partition_of(id, 1) == 0));
        assert!((-5..5).all(|id| partition_key(id) >= 0));
        // Spread: 16,000 consecutive ids fill 16 partitions evenly (±15 %).
        let mut n = [0u32; 16];
        for id in 1..=16_000 {
            n[partition_of(id, 16) as usize] += 1;
        }
        assert!(n.iter().all(|&c| (850..=1150).contains(&c)), "{n:?}");
    }

    #[test]
    fn combined_root_commits_to_every_head() {
        let r = |s: &str| leaf_hash(s.as_bytes());
        let heads = [(0, 3, r("a")), (1, 5, r("b")), (2, 0, empty_root())];
        let c = combined_root(&heads);
        let mut changed = heads;
        changed[1].1 = 6;
        assert_ne!(combined_root(&changed), c);
        let mut changed = heads;
        changed[2].2 = r("c");
        assert_ne!(combined_root(&changed), c);
        let leaves: Vec<Hash> = heads
            .iter()
            .map(|(p, s, h)| leaf_hash(partition_head_leaf(*p, *s, h).as_bytes()))
            .collect();
        let p = inclusion_proof(1, &leaves).unwrap();
        assert!(verify_inclusion(&leaves[1], 1, 3, &p, &c));
    }
}
