//! Unit tests of the TF1 bundle reader.
use super::super::sstable::{build_table, mask_crc};
use super::*;

fn entry_bytes(dtype: i32, dims: &[i64], offset: i64, data: &[u8]) -> Vec<u8> {
    BundleEntryProto {
        dtype,
        shape: Some(TensorShapeProto {
            dim: dims
                .iter()
                .map(|&size| Dim {
                    size,
                    name: String::new(),
                })
                .collect(),
            unknown_rank: false,
        }),
        shard_id: 0,
        offset,
        size: data.len() as i64,
        crc32c: mask_crc(crc32c::crc32c(data)),
        slices: Vec::new(),
    }
    .encode_to_vec()
}

fn header() -> Vec<u8> {
    BundleHeaderProto {
        num_shards: 1,
        endianness: 0,
        version: Some(VersionDef {
            producer: 1,
            min_consumer: 0,
            bad_consumers: vec![],
        }),
    }
    .encode_to_vec()
}

#[test]
fn reads_a_built_bundle() {
    let a: Vec<u8> = [1.5f32, -2.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let b: Vec<u8> = [7i64].iter().flat_map(|x| x.to_le_bytes()).collect();
    let mut data = a.clone();
    data.extend_from_slice(&b);
    let index = build_table(&[
        (vec![], header()),
        (b"a/x".to_vec(), entry_bytes(1, &[2], 0, &a)),
        (b"b".to_vec(), entry_bytes(9, &[], 8, &b)),
        (b"s".to_vec(), entry_bytes(7, &[3], 16, &[])),
    ]);
    let ckpt = TfCheckpoint::from_bytes(&index, vec![data]).unwrap();
    assert_eq!(ckpt.tensors().len(), 3);
    assert_eq!(ckpt.tensors()[2].dtype.to_string(), "string");
    let x = ckpt.read_tensor("a/x").unwrap();
    assert_eq!(x.as_f32().unwrap(), &[1.5, -2.0]);
    assert_eq!(ckpt.read_tensor("b").unwrap().to_f64_vec(), vec![7.0]);
    assert!(matches!(
        ckpt.read_tensor("s"),
        Err(CheckpointError::UnsupportedDtype { .. })
    ));
    assert!(matches!(
        ckpt.read_tensor("a/y"),
        Err(CheckpointError::NotFound { suggestion: Some(s), .. }) if s == "a/x"
    ));
}

#[test]
fn refuses_huge_size_before_allocating() {
    let index = build_table(&[
        (vec![], header()),
        (b"big".to_vec(), {
            let mut e = BundleEntryProto::decode(&entry_bytes(4, &[1_000_000_000_000], 0, &[])[..])
                .unwrap();
            e.size = 1_000_000_000_000;
            e.encode_to_vec()
        }),
    ]);
    let ckpt = TfCheckpoint::from_bytes(&index, vec![vec![0; 16]]).unwrap();
    // uint8 is listed but not loadable; a float claiming 10^12 bytes fails at open.
    assert!(ckpt.read_tensor("big").is_err());
    let index = build_table(&[
        (vec![], header()),
        (b"big".to_vec(), {
            let mut e =
                BundleEntryProto::decode(&entry_bytes(1, &[250_000_000_000], 0, &[])[..]).unwrap();
            e.size = 1_000_000_000_000;
            e.encode_to_vec()
        }),
    ]);
    let ckpt = TfCheckpoint::from_bytes(&index, vec![vec![0; 16]]).unwrap();
    assert!(matches!(
        ckpt.read_tensor("big"),
        Err(CheckpointError::CorruptTensor { .. })
    ));
}

#[test]
fn detects_tensor_checksum() {
    let a: Vec<u8> = 3.0f32.to_le_bytes().to_vec();
    let index = build_table(&[
        (vec![], header()),
        (b"a".to_vec(), entry_bytes(1, &[], 0, &a)),
    ]);
    let mut data = a;
    data[0] ^= 1;
    let ckpt = TfCheckpoint::from_bytes(&index, vec![data]).unwrap();
    assert!(matches!(
        ckpt.read_tensor("a"),
        Err(CheckpointError::Checksum { .. })
    ));
}

fn header_with(num_shards: i32, endianness: i32, min_consumer: i32) -> Vec<u8> {
    BundleHeaderProto {
        num_shards,
        endianness,
        version: Some(VersionDef {
            producer: 1,
            min_consumer,
            bad_consumers: vec![],
        }),
    }
    .encode_to_vec()
}

#[test]
fn reads_multiple_shard_files() {
    let a: Vec<u8> = [1.0f64, 2.0].iter().flat_map(|x| x.to_le_bytes()).collect();
    let b: Vec<u8> = [3i32, 4, 5].iter().flat_map(|x| x.to_le_bytes()).collect();
    let mut eb = BundleEntryProto::decode(&entry_bytes(3, &[3], 4, &b)[..]).unwrap();
    eb.shard_id = 1;
    let index = build_table(&[
        (vec![], header_with(2, 0, 0)),
        (b"a".to_vec(), entry_bytes(2, &[2], 0, &a)),
        (b"b".to_vec(), eb.encode_to_vec()),
    ]);
    let dir = std::env::temp_dir().join(format!("scope-tf-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let prefix = dir.join("model.ckpt");
    std::fs::write(dir.join("model.ckpt.index"), &index).unwrap();
    std::fs::write(TfCheckpoint::shard_path(&prefix, 0, 2), &a).unwrap();
    let mut shard1 = vec![9u8; 4];
    shard1.extend_from_slice(&b);
    std::fs::write(TfCheckpoint::shard_path(&prefix, 1, 2), &shard1).unwrap();
    assert!(TfCheckpoint::shard_path(&prefix, 1, 2)
        .display()
        .to_string()
        .ends_with("model.ckpt.data-00001-of-00002"));

    let ckpt = TfCheckpoint::open(&prefix).unwrap();
    assert_eq!(ckpt.num_shards(), 2);
    assert_eq!(ckpt.read_tensor("a").unwrap().to_f64_vec(), vec![1.0, 2.0]);
    assert_eq!(
        ckpt.read_tensor("b").unwrap().to_f64_vec(),
        vec![3.0, 4.0, 5.0]
    );
    // The `.index` path works as well as the prefix.
    let again = TfCheckpoint::open(dir.join("model.ckpt.index")).unwrap();
    assert_eq!(again.tensors().len(), 2);
    // A missing shard is an I/O error naming the file, not a panic.
    std::fs::remove_file(TfCheckpoint::shard_path(&prefix, 1, 2)).unwrap();
    let err = ckpt.read_tensor("b").unwrap_err();
    assert!(matches!(err, CheckpointError::Io { .. }), "{err}");
    assert!(err.to_string().contains("data-00001-of-00002"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn refuses_unsupported_bundles() {
    let big_endian = build_table(&[(vec![], header_with(1, 1, 0))]);
    assert!(matches!(
        TfCheckpoint::from_bytes(&big_endian, vec![]),
        Err(CheckpointError::Unsupported { .. })
    ));
    let newer = build_table(&[(vec![], header_with(1, 0, 2))]);
    assert!(matches!(
        TfCheckpoint::from_bytes(&newer, vec![]),
        Err(CheckpointError::Unsupported { .. })
    ));
    let no_header = build_table(&[(b"a".to_vec(), entry_bytes(1, &[], 0, &[0; 4]))]);
    assert!(matches!(
        TfCheckpoint::from_bytes(&no_header, vec![]),
        Err(CheckpointError::CorruptIndex { .. })
    ));
    let mut sliced = BundleEntryProto::decode(&entry_bytes(1, &[4], 0, &[0; 16])[..]).unwrap();
    sliced
        .slices
        .push(tf_slice::slice_proto(&Slice::full(&[4])));
    let index = build_table(&[(vec![], header()), (b"p".to_vec(), sliced.encode_to_vec())]);
    let err = TfCheckpoint::from_bytes(&index, vec![vec![0; 16]]).unwrap_err();
    assert!(matches!(err, CheckpointError::CorruptIndex { .. }), "{err}");
    assert!(err.to_string().contains("no entry holds its data"), "{err}");
    let mut bad_shard = BundleEntryProto::decode(&entry_bytes(1, &[], 0, &[0; 4])[..]).unwrap();
    bad_shard.shard_id = 3;
    let index = build_table(&[
        (vec![], header()),
        (b"s".to_vec(), bad_shard.encode_to_vec()),
    ]);
    let err = TfCheckpoint::from_bytes(&index, vec![]).unwrap_err();
    assert!(err.to_string().contains("shard 3"), "{err}");
}

/// A float32 variable `v` of `rows` x 2 saved in the given row slices: `(start, len,
/// stored_rows)` per slice, its entry holding `stored_rows` rows (a lie when it differs).
fn sliced_index(
    rows: i64,
    slices: &[(i64, i64, i64)],
    listed: &[(i64, i64)],
) -> (Vec<u8>, Vec<u8>) {
    let mut data = Vec::new();
    let mut entries = vec![(vec![], header())];
    for &(start, len, stored) in slices {
        let bytes = vec![0u8; stored as usize * 8];
        let key = tf_slice::encode_key("v", &vec![(start, len), (0, 2)]);
        entries.push((key, entry_bytes(1, &[stored, 2], data.len() as i64, &bytes)));
        data.extend_from_slice(&bytes);
    }
    let mut full = BundleEntryProto::decode(&entry_bytes(1, &[rows, 2], 0, &[])[..]).unwrap();
    full.size = 0;
    full.crc32c = 0;
    for &(start, len) in listed {
        let slice = Slice {
            start: vec![start as usize, 0],
            shape: vec![len as usize, 2],
        };
        full.slices.push(tf_slice::slice_proto(&slice));
    }
    entries.push((b"v".to_vec(), full.encode_to_vec()));
    entries.sort();
    (build_table(&entries), data)
}

fn corrupt_reason(index: &[u8], data: Vec<u8>) -> String {
    match TfCheckpoint::from_bytes(index, vec![data]) {
        Err(CheckpointError::CorruptIndex { reason, .. }) => reason,
        other => panic!("expected a corrupt index, got {other:?}"),
    }
}

#[test]
fn reads_and_refuses_sliced_entries() {
    let (index, data) = sliced_index(4, &[(0, 3, 3), (3, 1, 1)], &[(0, 3), (3, 1)]);
    let ckpt = TfCheckpoint::from_bytes(&index, vec![data]).unwrap();
    assert_eq!(ckpt.keys(), ["v"]);
    assert_eq!(ckpt.slice_count("v"), Some(2));
    assert_eq!(ckpt.read_tensor("v").unwrap().shape(), [4, 2]);

    let (index, data) = sliced_index(4, &[(0, 3, 3)], &[(0, 3), (3, 1)]);
    assert!(corrupt_reason(&index, data).contains("no entry holds its data"));
    let (index, data) = sliced_index(4, &[(0, 3, 3), (2, 2, 2)], &[(0, 3), (2, 2)]);
    assert!(corrupt_reason(&index, data).contains("overlap"));
    let (index, data) = sliced_index(4, &[(0, 3, 3), (3, 3, 3)], &[(0, 3), (3, 3)]);
    assert!(corrupt_reason(&index, data).contains("past the full size"));
    let (index, data) = sliced_index(4, &[(0, 3, 2), (3, 1, 1)], &[(0, 3), (3, 1)]);
    assert!(corrupt_reason(&index, data).contains("is stored as"));
    let (index, data) = sliced_index(4, &[(0, 3, 3), (3, 1, 1), (5, 1, 1)], &[(0, 3), (3, 1)]);
    assert!(corrupt_reason(&index, data).contains("that no entry lists"));
    let (index, data) = sliced_index(4, &[(0, 3, 3)], &[(0, 3)]);
    assert!(corrupt_reason(&index, data).contains("a slice is missing"));
    // A slice key that does not parse is named as such, not as a bad name.
    let bad = build_table(&[
        (vec![], header()),
        (vec![0, 9], entry_bytes(1, &[], 0, &[0; 4])),
    ]);
    assert!(corrupt_reason(&bad, vec![0; 4]).contains("slice key"));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn dtype_code() -> impl Strategy<Value = (i32, DType)> {
        prop_oneof![
            Just((1, DType::F32)),
            Just((2, DType::F64)),
            Just((3, DType::I32)),
            Just((9, DType::I64)),
            Just((10, DType::Bool)),
            Just((19, DType::F16)),
        ]
    }

    proptest! {
        #[test]
        fn random_bundles_read_back(
            tensors in prop::collection::btree_map(
                "[a-z]{1,3}(/[a-z_]{1,4}){0,3}",
                (dtype_code(), prop::collection::vec(0usize..4, 0..3), any::<u64>()),
                0..12,
            )
        ) {
            let mut data = Vec::new();
            let mut entries = vec![(Vec::new(), header())];
            let mut want = Vec::new();
            for (name, ((code, dtype), shape, seed)) in &tensors {
                let n: usize = shape.iter().product();
                let values = (0..n).map(|i| ((seed.wrapping_add(i as u64) % 17) as f64) - 8.0);
                let elems = crate::tensor::TensorData::from_f64_iter(*dtype, values).unwrap();
                let t = Tensor::new(shape, elems).unwrap();
                let bytes = t.to_le_bytes().unwrap();
                let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
                entries.push((name.clone().into_bytes(), entry_bytes(*code, &dims, data.len() as i64, &bytes)));
                data.extend_from_slice(&bytes);
                want.push((name.clone(), t));
            }
            let ckpt = TfCheckpoint::from_bytes(&build_table(&entries), vec![data]).unwrap();
            prop_assert_eq!(ckpt.tensors().len(), want.len());
            for (name, t) in want {
                prop_assert_eq!(ckpt.read_tensor(&name).unwrap(), t);
            }
        }

        #[test]
        fn arbitrary_index_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(ckpt) = TfCheckpoint::from_bytes(&bytes, vec![vec![0; 64]]) {
                for t in ckpt.tensors() {
                    let _ = ckpt.read_tensor(&t.name);
                }
            }
        }

        #[test]
        fn arbitrary_table_tails_never_panic(
            body in prop::collection::vec(any::<u8>(), 0..300),
            index_off in 0u64..400,
            index_size in 0u64..400,
        ) {
            // A real footer pointing into random bytes.
            let mut file = body;
            let mut footer = vec![0u8, 0];
            let mut put = |mut v: u64| {
                while v >= 0x80 {
                    footer.push((v as u8) | 0x80);
                    v >>= 7;
                }
                footer.push(v as u8);
            };
            put(index_off);
            put(index_size);
            footer.resize(40, 0);
            footer.extend_from_slice(&crate::checkpoint::sstable::TABLE_MAGIC.to_le_bytes());
            file.extend_from_slice(&footer);
            let _ = TfCheckpoint::from_bytes(&file, vec![]);
        }
    }
}
