//! Slices of partitioned variables in TF1 checkpoints.
//!
//! `tf.train.Saver` stores a partitioned variable (`embedding/part_0 .. part_k`) as ONE index
//! entry under its full name and full shape whose `BundleEntryProto.slices` lists the parts as
//! `TensorSliceProto`s; each part's bytes sit in an entry of their own under a binary key,
//! TF's `checkpoint::EncodeTensorNameSlice`: in TF's OrderedCode, the number 0, the full name,
//! the rank, then every dimension's start and length. This module encodes and parses those
//! keys, decodes the slice protos, and copies a slice's bytes into or out of a row-major
//! region of a larger tensor.

use crate::partition::Slice;

/// `tensorflow.TensorSliceProto`: one extent per dimension.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct TensorSliceProto {
    #[prost(message, repeated, tag = "1")]
    pub(crate) extent: Vec<ExtentProto>,
}

/// `tensorflow.TensorSliceProto.Extent`: a start and, unless the extent is the whole
/// dimension, a length (`oneof has_length`).
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ExtentProto {
    #[prost(int64, tag = "1")]
    pub(crate) start: i64,
    #[prost(int64, optional, tag = "2")]
    pub(crate) length: Option<i64>,
}

/// TF's `TensorSlice::kFullExtent`: the length a key records for "the whole dimension".
const FULL_EXTENT: i64 = -1;

/// The proto `tf.train.Saver` writes for a slice: every extent with its start and length.
pub(crate) fn slice_proto(slice: &Slice) -> TensorSliceProto {
    TensorSliceProto {
        extent: slice
            .start
            .iter()
            .zip(&slice.shape)
            .map(|(&start, &len)| ExtentProto {
                start: start as i64,
                length: Some(len as i64),
            })
            .collect(),
    }
}

/// A slice as a key and a proto spell it: per dimension a start and a length, or
/// [`FULL_EXTENT`] for the whole dimension.
pub(crate) type RawExtents = Vec<(i64, i64)>;

/// The extents a slice proto lists, as its key encodes them.
pub(crate) fn raw_extents(proto: &TensorSliceProto) -> RawExtents {
    proto
        .extent
        .iter()
        .map(|e| (e.start, e.length.unwrap_or(FULL_EXTENT)))
        .collect()
}

/// Resolves raw extents against the full shape, or says what is wrong with them.
pub(crate) fn resolve(raw: &RawExtents, full: &[usize]) -> Result<Slice, String> {
    if raw.len() != full.len() {
        return Err(format!(
            "a slice of rank {} in a tensor of rank {}",
            raw.len(),
            full.len()
        ));
    }
    let mut slice = Slice::full(full);
    for (d, (&(start, len), &dim)) in raw.iter().zip(full).enumerate() {
        if (start, len) == (0, FULL_EXTENT) {
            continue;
        }
        let (Ok(s), Ok(n)) = (usize::try_from(start), usize::try_from(len)) else {
            return Err(format!(
                "dimension {d} has start {start} and length {len} (neither may be negative)"
            ));
        };
        if s.checked_add(n).is_none_or(|end| end > dim) {
            return Err(format!(
                "dimension {d} runs from {s} for {n}, past the full size {dim}"
            ));
        }
        slice.start[d] = s;
        slice.shape[d] = n;
    }
    Ok(slice)
}

/// TF's `EncodeTensorNameSlice`: the key under which a slice's bytes are stored.
pub(crate) fn encode_key(name: &str, raw: &RawExtents) -> Vec<u8> {
    let mut key = Vec::with_capacity(name.len() + 4 + raw.len() * 4);
    ordered::put_num(&mut key, 0);
    ordered::put_str(&mut key, name.as_bytes());
    ordered::put_num(&mut key, raw.len() as u64);
    for &(start, len) in raw {
        ordered::put_signed(&mut key, start);
        ordered::put_signed(&mut key, len);
    }
    key
}

/// Whether an index key is a slice key: names are never empty and never start with a NUL
/// byte, slice keys always do (the OrderedCode of 0).
pub(crate) fn is_slice_key(key: &[u8]) -> bool {
    key.first() == Some(&0)
}

/// Parses a slice key into the full name and the extents, or says why it is not one.
pub(crate) fn decode_key(key: &[u8]) -> Result<(String, RawExtents), String> {
    let mut r = ordered::Reader(key);
    if r.num()? != 0 {
        return Err("it does not start with the number 0".to_owned());
    }
    let name = String::from_utf8(r.string()?)
        .map_err(|_| "its tensor name is not valid UTF-8".to_owned())?;
    let rank = r.num()?;
    if rank > 64 {
        return Err(format!("it claims rank {rank}"));
    }
    let mut raw = Vec::with_capacity(rank as usize);
    for _ in 0..rank {
        raw.push((r.signed()?, r.signed()?));
    }
    if !r.0.is_empty() {
        return Err(format!("{} bytes follow its last extent", r.0.len()));
    }
    Ok((name, raw))
}

/// Copies the row-major bytes of box `part` (elements of `elem` bytes) into the row-major
/// bytes of `region`, at their intersection. `src` holds exactly `part`, `dst` exactly
/// `region`.
pub(crate) fn copy_overlap(src: &[u8], part: &Slice, dst: &mut [u8], region: &Slice, elem: usize) {
    let Some(common) = part.intersect(region) else {
        return;
    };
    let rank = common.shape.len();
    if rank == 0 {
        dst[..elem].copy_from_slice(&src[..elem]);
        return;
    }
    let strides = |shape: &[usize]| {
        let mut s = vec![elem; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            s[d] = s[d + 1] * shape[d + 1];
        }
        s
    };
    let (src_strides, dst_strides) = (strides(&part.shape), strides(&region.shape));
    let run = common.shape[rank - 1] * elem;
    // Every index of the common box but the last dimension's, in row-major order.
    let mut idx = vec![0usize; rank - 1];
    loop {
        let offset = |strides: &[usize], origin: &Slice| {
            (0..rank)
                .map(|d| {
                    let i = if d + 1 == rank { 0 } else { idx[d] };
                    (common.start[d] + i - origin.start[d]) * strides[d]
                })
                .sum::<usize>()
        };
        let (s, d) = (offset(&src_strides, part), offset(&dst_strides, region));
        dst[d..d + run].copy_from_slice(&src[s..s + run]);
        let mut dim = rank - 1;
        loop {
            if dim == 0 {
                return;
            }
            dim -= 1;
            idx[dim] += 1;
            if idx[dim] < common.shape[dim] {
                break;
            }
            idx[dim] = 0;
        }
    }
}

/// Checks that `slices` tile a tensor of shape `full` exactly: no two share an element and
/// together they hold every element. Returns what is wrong otherwise.
pub(crate) fn check_tiling(slices: &[Slice], full: &[usize]) -> Result<(), String> {
    // Slices along one axis (every partitioner's) are checked by sorting; any other layout
    // pairwise, which is bounded so that a hostile index cannot make opening quadratic.
    const PAIRWISE_LIMIT: usize = 2048;
    let total: u128 = slices.iter().map(Slice::numel).sum();
    let numel: u128 = full.iter().map(|&d| d as u128).product();
    let axis = (0..full.len()).find(|&d| slices.iter().any(|s| s.shape[d] != full[d]));
    let one_axis = axis.is_none_or(|a| {
        slices
            .iter()
            .all(|s| (0..full.len()).all(|d| d == a || s.shape[d] == full[d]))
    });
    if one_axis {
        let a = axis.unwrap_or(0);
        let mut order: Vec<&Slice> = slices.iter().collect();
        order.sort_by_key(|s| s.start.get(a).copied().unwrap_or(0));
        for pair in order.windows(2) {
            if pair[0].intersect(pair[1]).is_some() {
                return Err(format!("slices {} and {} overlap", pair[0], pair[1]));
            }
        }
    } else if slices.len() <= PAIRWISE_LIMIT {
        for (i, a) in slices.iter().enumerate() {
            if let Some(b) = slices[i + 1..].iter().find(|b| a.intersect(b).is_some()) {
                return Err(format!("slices {a} and {b} overlap"));
            }
        }
    } else {
        return Err(format!(
            "{} slices cut along several axes (at most {PAIRWISE_LIMIT} can be checked)",
            slices.len()
        ));
    }
    if total != numel {
        return Err(format!(
            "its slices hold {total} of its {numel} elements (a slice is missing)"
        ));
    }
    Ok(())
}

/// TF's OrderedCode, as far as slice keys use it.
mod ordered {
    /// Header bits of a signed number of `len` bytes (1 to 10), in its first two bytes.
    const HEADER: [[u8; 2]; 11] = [
        [0, 0],
        [0x80, 0],
        [0xc0, 0],
        [0xe0, 0],
        [0xf0, 0],
        [0xf8, 0],
        [0xfc, 0],
        [0xfe, 0],
        [0xff, 0],
        [0xff, 0x80],
        [0xff, 0xc0],
    ];

    /// `WriteNumIncreasing`: a length byte, then the value big-endian without leading zeros.
    pub(super) fn put_num(out: &mut Vec<u8>, v: u64) {
        let bytes = v.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push((8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }

    /// `WriteString`: NUL and 0xff escaped, then the terminator `00 01`.
    pub(super) fn put_str(out: &mut Vec<u8>, s: &[u8]) {
        for &b in s {
            match b {
                0x00 => out.extend_from_slice(&[0x00, 0xff]),
                0xff => out.extend_from_slice(&[0xff, 0x00]),
                b => out.push(b),
            }
        }
        out.extend_from_slice(&[0x00, 0x01]);
    }

    /// `WriteSignedNumIncreasing`: the two's-complement value in as few bytes as hold it
    /// with room for the header, whose leading one bits count the bytes; a negative value
    /// is the bitwise complement of its complement's encoding.
    pub(super) fn put_signed(out: &mut Vec<u8>, v: i64) {
        let x = if v < 0 { !v as u64 } else { v as u64 };
        let bits = 64 - x.leading_zeros() as usize;
        let len = (bits + 1).div_ceil(7).max(1);
        let mut buf = [if v < 0 { 0xff } else { 0 }; 10];
        buf[2..].copy_from_slice(&v.to_be_bytes());
        let begin = 10 - len;
        buf[begin] ^= HEADER[len][0];
        if len > 1 {
            buf[begin + 1] ^= HEADER[len][1];
        }
        out.extend_from_slice(&buf[begin..]);
    }

    /// Reads what the writers above wrote.
    pub(super) struct Reader<'a>(pub(super) &'a [u8]);

    impl Reader<'_> {
        fn take(&mut self, n: usize, what: &str) -> Result<&[u8], String> {
            if self.0.len() < n {
                return Err(format!("it ends inside {what}"));
            }
            let (head, rest) = self.0.split_at(n);
            self.0 = rest;
            Ok(head)
        }

        pub(super) fn num(&mut self) -> Result<u64, String> {
            let len = self.take(1, "a number")?[0] as usize;
            if len > 8 {
                return Err(format!("a number claims {len} bytes"));
            }
            let bytes = self.take(len, "a number")?;
            Ok(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
        }

        pub(super) fn string(&mut self) -> Result<Vec<u8>, String> {
            let mut out = Vec::new();
            loop {
                match self.take(1, "the name")?[0] {
                    0x00 => match self.take(1, "the name")?[0] {
                        0x01 => return Ok(out),
                        0xff => out.push(0x00),
                        b => return Err(format!("the name has the bad escape 00 {b:02x}")),
                    },
                    0xff => match self.take(1, "the name")?[0] {
                        0x00 => out.push(0xff),
                        b => return Err(format!("the name has the bad escape ff {b:02x}")),
                    },
                    b => out.push(b),
                }
            }
        }

        pub(super) fn signed(&mut self) -> Result<i64, String> {
            let first = *self.0.first().ok_or("it ends inside an extent")?;
            let negative = first & 0x80 == 0;
            let flip = |b: u8| if negative { !b } else { b };
            let second = self.0.get(1).map_or(0, |&b| flip(b));
            let ones = flip(first).leading_ones() as usize
                + if flip(first) == 0xff {
                    second.leading_ones() as usize
                } else {
                    0
                };
            if !(1..=10).contains(&ones) {
                return Err("an extent has a bad length header".to_owned());
            }
            let bytes = self.take(ones, "an extent")?;
            let mut buf = [0u8; 10];
            for (i, &b) in bytes.iter().enumerate() {
                buf[10 - ones + i] = flip(b);
            }
            buf[10 - ones] ^= HEADER[ones][0];
            if ones > 1 {
                buf[10 - ones + 1] ^= HEADER[ones][1];
            }
            if buf[..2].iter().any(|&b| b != 0) {
                return Err("an extent does not fit 64 bits".to_owned());
            }
            let x = u64::from_be_bytes(buf[2..].try_into().expect("8 bytes"));
            let x = i64::try_from(x).map_err(|_| "an extent does not fit 64 bits".to_owned())?;
            Ok(if negative { !x } else { x })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_match_tf_bytes() {
        // From `tests/data/partitioned/p6`, written by TF 2.21's Saver.
        let key = encode_key("model/embedding", &vec![(15, 15), (0, 4)]);
        assert_eq!(key, b"\x00model/embedding\x00\x01\x01\x02\x8f\x8f\x80\x84");
        let (name, raw) = decode_key(&key).unwrap();
        assert_eq!(
            (name.as_str(), raw),
            ("model/embedding", vec![(15, 15), (0, 4)])
        );
    }

    #[test]
    fn full_extent_encodes_as_minus_one() {
        let mut out = Vec::new();
        ordered::put_signed(&mut out, -1);
        assert_eq!(out, [0x7f]);
    }

    #[test]
    fn tiling_finds_gaps_and_overlaps() {
        let s = |start: [usize; 2], shape: [usize; 2]| Slice {
            start: start.to_vec(),
            shape: shape.to_vec(),
        };
        let full = [6, 4];
        assert!(check_tiling(&[s([0, 0], [3, 4]), s([3, 0], [3, 4])], &full).is_ok());
        let gap = check_tiling(&[s([0, 0], [2, 4]), s([3, 0], [3, 4])], &full).unwrap_err();
        assert!(gap.contains("missing"), "{gap}");
        let over = check_tiling(&[s([0, 0], [4, 4]), s([3, 0], [3, 4])], &full).unwrap_err();
        assert!(over.contains("overlap"), "{over}");
        let grid = [
            s([0, 0], [3, 2]),
            s([0, 2], [3, 2]),
            s([3, 0], [3, 2]),
            s([3, 2], [3, 2]),
        ];
        assert!(check_tiling(&grid, &full).is_ok());
    }

    #[test]
    fn copies_a_box_into_a_region() {
        // In a 4x3 tensor holding 0..12: the part is rows 1..3, columns 1..3; the region
        // is columns 0..2.
        let part = Slice {
            start: vec![1, 1],
            shape: vec![2, 2],
        };
        let src = [4, 5, 7, 8];
        let region = Slice {
            start: vec![0, 0],
            shape: vec![4, 2],
        };
        let mut dst = vec![0u8; 8];
        copy_overlap(&src, &part, &mut dst, &region, 1);
        assert_eq!(dst, [0, 0, 0, 4, 0, 7, 0, 0]);
    }

    proptest! {
        #[test]
        fn signed_numbers_round_trip_in_order(a in any::<i64>(), b in any::<i64>()) {
            let (mut ea, mut eb) = (Vec::new(), Vec::new());
            ordered::put_signed(&mut ea, a);
            ordered::put_signed(&mut eb, b);
            prop_assert_eq!(ordered::Reader(&ea).signed().unwrap(), a);
            prop_assert_eq!(a.cmp(&b), ea.cmp(&eb));
        }

        #[test]
        fn keys_round_trip(name in "[a-z\u{0}\u{ff}/]{1,12}", raw in prop::collection::vec((any::<i64>(), any::<i64>()), 0..5)) {
            let key = encode_key(&name, &raw);
            prop_assert!(is_slice_key(&key));
            prop_assert_eq!(decode_key(&key).unwrap(), (name, raw));
        }

        #[test]
        fn arbitrary_keys_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
            let _ = decode_key(&bytes);
        }
    }
}
