//! `scope convert` and `scope inspect --map`: BERT from TF1 to Hugging Face shards and back,
//! bit-exact, and mapping problems as exit codes with the culprits named.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use scope::checkpoint::{CheckpointSource, ShardedCheckpoint, TfCheckpoint};

fn scope(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scope"))
        .args(args.iter().map(|a| a.as_ref()))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("the scope binary runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scope-convert-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn bert_to_hugging_face_shards_and_back_is_bit_exact() {
    for task in ["classifier", "pretraining"] {
        let ckpt = format!("tests/data/bert/{task}/model_step3.ckpt");
        let tmp = temp_dir(task);
        let hf = tmp.join("hf/model.safetensors");
        let out = scope(&[
            &"convert",
            &ckpt,
            &hf,
            &"--preset",
            &"bert-tf-to-hf",
            &"--max-shard-size",
            &"16KiB",
        ]);
        let said = text(&out);
        assert!(out.status.success(), "{said}");
        assert!(
            said.contains(&format!("mapping `bert-tf-to-hf:{task}`")),
            "{said}"
        );
        assert!(said.contains("model.safetensors.index.json"), "{said}");

        // The directory opens as the sharded checkpoint it is.
        let out = scope(&[&"inspect", &tmp.join("hf")]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("bert.encoder.layer.1.output.LayerNorm.weight"));

        let back = tmp.join("tf/model.safetensors");
        let out = scope(&[
            &"convert",
            &tmp.join("hf"),
            &back,
            &"--preset",
            &"bert-hf-to-tf",
        ]);
        assert!(out.status.success(), "{}", text(&out));
        let tf =
            TfCheckpoint::open(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join(&ckpt))
                .unwrap();
        let again = ShardedCheckpoint::open(&back).unwrap();
        for t in again.tensors() {
            assert_eq!(
                again.read_tensor(&t.name).unwrap(),
                tf.read_tensor(&t.name).unwrap(),
                "{}",
                t.name
            );
        }
        let model = tf
            .tensors()
            .iter()
            .filter(|t| !t.name.contains("adam") && t.name != "global_step");
        assert_eq!(again.tensors().len(), model.count());
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}

#[test]
fn inspect_map_shows_before_and_after_and_fails_on_problems() {
    let ckpt = "tests/data/bert/pretraining/model.ckpt";
    let out = scope(&[&"inspect", &ckpt, &"--map", &"bert-tf-to-hf"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("0 problem(s)"), "{said}");
    assert!(
        said.contains("cls/predictions/transform/dense/kernel"),
        "{said}"
    );
    assert!(
        said.contains("->  cls.predictions.transform.dense.weight  float32 (24, 24)  transposed"),
        "{said}"
    );

    // The bare model's layout has no rule for the heads: exit 1, each head variable named.
    let out = scope(&[&"inspect", &ckpt, &"--map", &"bert-tf-to-hf:model"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("`cls/seq_relationship/output_weights` is not mapped by any rule"),
        "{said}"
    );

    // Nothing is written when the mapping does not apply.
    let tmp = temp_dir("refused");
    let target = tmp.join("model.safetensors");
    let out = scope(&[
        &"convert",
        &ckpt,
        &target,
        &"--preset",
        &"bert-tf-to-hf:model",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("nothing was read, written or restored"));
    assert!(!target.exists());

    let out = scope(&[&"convert", &ckpt, &target, &"--preset", &"bert-tf-to-fh"]);
    assert!(
        text(&out).contains("did you mean `bert-tf-to-hf`?"),
        "{}",
        text(&out)
    );
    let out = scope(&[
        &"convert",
        &ckpt,
        &target,
        &"--max-shard-size",
        &"5 parsecs",
    ]);
    assert!(text(&out).contains("unknown size unit"), "{}", text(&out));
}

/// A reader that stops early closes the pipe: the command ends quietly, without a panic.
#[test]
fn a_closed_stdout_is_no_panic() {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_scope"))
        .args(["inspect", "tests/data/bert/pretraining/model.ckpt"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the scope binary runs");
    drop(child.stdout.take()); // `| head -0`
    let out = child.wait_with_output().expect("the scope binary ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.code().is_some_and(|c| c == 0), "{stderr}");
}
