//! A safetensors file written by this crate opens in Python's `safetensors` + numpy with the
//! same names, dtypes, shapes, values and metadata. Skipped, with a notice, where python3 or
//! those packages are missing (`pip install safetensors numpy`).

use std::collections::BTreeMap;
use std::io::Write;
use std::process::Command;

use scope::checkpoint::{save_safetensors_with_metadata, METADATA_TRAINABLE_KEY};
use scope::{DType, Initializer, Registry, Tensor, VarSpec};
use serde_json::Value;

use crate::support::{tensor, variable_at};

const SCRIPT: &str = r#"
import json, sys
import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

path = sys.argv[1]
tensors = load_file(path)
with safe_open(path, framework="np") as f:
    metadata = f.metadata()
out = {"metadata": metadata, "tensors": {}}
for name, arr in tensors.items():
    out["tensors"][name] = {
        "dtype": str(arr.dtype),
        "shape": list(arr.shape),
        "data": [float(x) for x in arr.astype(np.float64).reshape(-1)],
        "hex": np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes().hex(),
    }
print(json.dumps(out))
"#;

fn python_has_modules() -> Result<(), String> {
    let out = Command::new("python3")
        .args(["-c", "import safetensors, numpy"])
        .output()
        .map_err(|e| format!("python3 is not available ({e})"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "python3 lacks safetensors or numpy ({})",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

#[test]
fn python_safetensors_reads_our_files() {
    if let Err(why) = python_has_modules() {
        // Straight to stdout, past libtest's capture, so a skip is never silent.
        let _ = writeln!(
            std::io::stdout(),
            "skipping the Python interop test: {why}; `pip install safetensors numpy` enables it"
        );
        return;
    }
    let reg = Registry::with_seed(11);
    let vars = [
        ("rnn/input_layer/weights", VarSpec::new().shape([10, 11])),
        (
            "rnn/half",
            VarSpec::new().initializer(Initializer::value(
                Tensor::from(vec![0.5f32, -1.25, 3.0])
                    .cast(DType::F16)
                    .unwrap(),
            )),
        ),
        (
            "rnn/double",
            VarSpec::new().initializer(Initializer::value(Tensor::from(std::f64::consts::PI))),
        ),
        (
            "counts/int32",
            VarSpec::new().initializer(Initializer::value(vec![1i32, -7, 1 << 30])),
        ),
        (
            "global_step",
            VarSpec::new()
                .initializer(Initializer::value(Tensor::from(123_456_789_012i64)))
                .trainable(false),
        ),
        (
            "mask",
            VarSpec::new().initializer(Initializer::value(vec![true, false, true, true])),
        ),
    ];
    let made: Vec<scope::Variable> = vars
        .into_iter()
        .map(|(name, spec)| variable_at(&reg, name, spec))
        .collect::<Result<_, _>>()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("scope-ckpt-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    let mut meta = BTreeMap::new();
    meta.insert("note".to_owned(), "written by scope".to_owned());
    save_safetensors_with_metadata(&path, &reg, &meta).unwrap();

    let out = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(&path)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).expect("python printed JSON");
    assert_eq!(got["metadata"]["note"], "written by scope");
    let trainable: Value =
        serde_json::from_str(got["metadata"][METADATA_TRAINABLE_KEY].as_str().unwrap()).unwrap();
    assert_eq!(trainable["global_step"], false);
    assert_eq!(trainable["rnn/input_layer/weights"], true);

    let tensors = got["tensors"].as_object().unwrap();
    assert_eq!(tensors.len(), made.len());
    for v in &made {
        let t = &tensors[v.name()];
        let numpy_dtype = match v.dtype() {
            DType::F16 => "float16",
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::Bool => "bool",
        };
        assert_eq!(t["dtype"], numpy_dtype, "{}", v.name());
        let data = tensor::f64s(t).unwrap_or_else(|e| panic!("{}: {e}", v.name()));
        assert_eq!(data.shape(), v.shape(), "{}", v.name());
        // JSON decimals are checked to 1e-12; the bytes, exactly.
        let want = v.value().to_f64_vec();
        assert_eq!(data.len(), want.len(), "{}", v.name());
        for (a, b) in data.iter().zip(&want) {
            assert!(
                (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                "{}: {a} vs {b}",
                v.name()
            );
        }
        let hex: String = v
            .value()
            .to_le_bytes()
            .unwrap()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(t["hex"], hex.as_str(), "{}: raw bytes", v.name());
    }
    println!(
        "python safetensors read {} tensors with the same names and values",
        made.len()
    );
    std::fs::remove_dir_all(&dir).ok();
}
