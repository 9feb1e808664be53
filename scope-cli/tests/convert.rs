//! `scope convert` and `scope inspect --map`: BERT from TF1 to Hugging Face shards and back,
//! bit-exact, and mapping problems as exit codes with the culprits named.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use scope::checkpoint::{CheckpointSource, SafetensorsCheckpoint, ShardedCheckpoint, TfCheckpoint};

#[path = "../../tests/support/mod.rs"]
mod support;

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

        // And through the mapping into a TF1 checkpoint, which TF's names read back.
        let tf1 = tmp.join("tf1/model.ckpt");
        let out = scope(&[
            &"convert",
            &tmp.join("hf"),
            &tf1,
            &"--preset",
            &"bert-hf-to-tf",
        ]);
        let said = text(&out);
        assert!(out.status.success(), "{said}");
        assert!(said.contains("mapping `bert-hf-to-tf"), "{said}");
        let tf1 = TfCheckpoint::open(&tf1).unwrap();
        assert_eq!(tf1.tensors(), again.tensors());
        for t in tf1.tensors() {
            assert_eq!(
                tf1.read_tensor(&t.name).unwrap(),
                tf.read_tensor(&t.name).unwrap(),
                "{}",
                t.name
            );
        }
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

/// A copy of the seed RNN's TF1 checkpoint in `dir`; returns the prefix.
fn seed_copy(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    for f in ["model.ckpt.index", "model.ckpt.data-00000-of-00001"] {
        std::fs::copy(support::data_dir().join("seed_rnn").join(f), dir.join(f)).unwrap();
    }
    dir.join("model.ckpt")
}

/// Runs `scope args` and checks that it refuses to write its output, saying `what`.
fn assert_refused(args: &[&dyn AsRef<std::ffi::OsStr>], what: &str) {
    let out = scope(args);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("error: refusing to write"), "{said}");
    assert!(said.contains(what), "`{what}` not in {said}");
}

fn bytes_of(files: &[PathBuf]) -> Vec<Vec<u8>> {
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

/// Issue 25, item 1: `convert` never writes over what it reads, whatever name the output is
/// given (the index, a data shard, a symlink or a hard link to one, the same safetensors
/// file by another spelling), nor replaces a FIFO unless asked, nor writes a name that is
/// that tells no format.
#[test]
fn convert_refuses_an_output_that_is_its_input() {
    let tmp = temp_dir("own-input");
    let prefix = seed_copy(&tmp);
    let files = [
        tmp.join("model.ckpt.index"),
        tmp.join("model.ckpt.data-00000-of-00001"),
    ];
    let before = bytes_of(&files);
    let refused = |output: &Path, what: &str| {
        assert_refused(&[&"convert", &prefix, &output], what);
        assert_eq!(
            bytes_of(&files),
            before,
            "{} changed the input",
            output.display()
        );
    };
    refused(&files[0], "a file of a TF1 checkpoint");
    refused(&files[1], "a file of a TF1 checkpoint");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&files[1], tmp.join("alias.safetensors")).unwrap();
        refused(
            &tmp.join("alias.safetensors"),
            "a file of the input checkpoint",
        );
        std::os::unix::fs::symlink(&files[0], tmp.join("alias.safetensors.index.json")).unwrap();
        std::fs::remove_file(tmp.join("alias.safetensors")).unwrap();
        refused(
            &tmp.join("alias.safetensors"),
            "alias.safetensors.index.json",
        );
        std::fs::remove_file(tmp.join("alias.safetensors.index.json")).unwrap();
    }
    std::fs::hard_link(&files[1], tmp.join("hard.safetensors")).unwrap();
    refused(
        &tmp.join("hard.safetensors"),
        "a file of the input checkpoint",
    );
    std::fs::remove_file(tmp.join("hard.safetensors")).unwrap();

    // A safetensors file converted onto itself, by its name or through another path.
    let st = tmp.join("st/model.safetensors");
    let out = scope(&[&"convert", &prefix, &st]);
    assert!(out.status.success(), "{}", text(&out));
    let written = std::fs::read(&st).unwrap();
    for output in [st.clone(), tmp.join("st/../st/model.safetensors")] {
        for input in [st.clone(), tmp.join("st")] {
            let out = scope(&[&"convert", &input, &output]);
            assert_eq!(out.status.code(), Some(2), "{}", text(&out));
            assert!(
                text(&out).contains("a file of the input checkpoint"),
                "{}",
                text(&out)
            );
        }
    }
    assert_eq!(std::fs::read(&st).unwrap(), written);

    // A directory is no output; neither is a FIFO, unless asked.
    std::fs::create_dir_all(tmp.join("d.safetensors")).unwrap();
    refused(&tmp.join("d.safetensors"), "it is a directory");
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let fifo = tmp.join("fifo.safetensors");
        let made = Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            refused(&fifo, "--replace-special-file");
            assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
            let out = scope(&[&"convert", &prefix, &fifo, &"--replace-special-file"]);
            assert!(out.status.success(), "{}", text(&out));
            assert!(std::fs::metadata(&fifo).unwrap().is_file());
        }
    }
    std::fs::remove_dir_all(&tmp).unwrap();
}

/// Issue 25, item 2: converting into the folder of a sharded input, under the name whose
/// stale shards and index the save would clean up, is refused before anything is read; a
/// save that does remove files of an earlier save says which.
#[test]
fn convert_into_the_folder_of_sharded_input_keeps_it() {
    let tmp = temp_dir("sharded-input");
    let hf = tmp.join("hf");
    let out = scope(&[
        &"convert",
        &"tests/data/bert/classifier/model_step3.ckpt",
        &hf.join("model.safetensors"),
        &"--preset",
        &"bert-tf-to-hf",
        &"--max-shard-size",
        &"16KiB",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&hf)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() > 3, "{files:?}");
    let before = bytes_of(&files);
    for input in [hf.clone(), hf.join("model.safetensors.index.json")] {
        let out = scope(&[
            &"convert",
            &input,
            &hf.join("model.safetensors"),
            &"--preset",
            &"bert-hf-to-tf",
        ]);
        let said = text(&out);
        assert_eq!(out.status.code(), Some(2), "{said}");
        assert!(said.contains("which is"), "{said}");
        assert!(said.contains("a file of the input checkpoint"), "{said}");
        assert_eq!(bytes_of(&files), before);
    }
    // Another name in the same folder touches none of the input's files.
    let out = scope(&[
        &"convert",
        &hf,
        &hf.join("tf.safetensors"),
        &"--preset",
        &"bert-hf-to-tf",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(bytes_of(&files), before);
    assert!(!text(&out).contains("removed"), "{}", text(&out));

    // Over an earlier sharded save of another input, the shards it leaves are named.
    let out = scope(&[
        &"convert",
        &"tests/data/bert/classifier/model.ckpt",
        &hf.join("model.safetensors"),
    ]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("removed "), "{said}");
    assert!(said.contains("model-00001-of-"), "{said}");
    assert!(said.contains("model.safetensors.index.json"), "{said}");
    std::fs::remove_dir_all(&tmp).unwrap();
}

/// Issue 25, item 5: the command opens checkpoints under paths that are not UTF-8, as the
/// library does.
#[cfg(unix)]
#[test]
fn non_utf8_paths_open() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = temp_dir("non-utf8");
    let dir = tmp.join(std::ffi::OsStr::from_bytes(b"nu\xff\xfe"));
    let prefix = seed_copy(&dir);
    for args in [
        vec![&"inspect" as &dyn AsRef<std::ffi::OsStr>, &prefix],
        vec![&"inspect", &dir],
        vec![&"diff", &prefix, &dir],
        vec![&"import", &prefix, &"--name", &"Rnn"],
    ] {
        let out = scope(&args);
        assert!(out.status.success(), "{}", text(&out));
    }
    let out = scope(&[&"convert", &prefix, &dir.join("model.safetensors")]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(dir.join("model.safetensors").is_file());
    std::fs::remove_dir_all(&tmp).unwrap();
}

/// Issue 23, item 4: `convert` writes TF1 checkpoints. TF's partitioned checkpoint goes to
/// safetensors (every variable whole), back to TF1 (read back equal), and to TF1 directly
/// (the slices kept: TF's own bytes).
#[test]
fn tf1_output_from_a_partitioned_checkpoint_and_back() {
    let tmp = temp_dir("tf1-out");
    let p6 = support::data_dir().join("partitioned/p6/model.ckpt");
    let tf = TfCheckpoint::open(&p6).unwrap();
    assert!(tf.keys().iter().any(|k| tf.slice_count(k).is_some()));

    let st = tmp.join("p6.safetensors");
    let out = scope(&[&"convert", &p6, &st]);
    assert!(out.status.success(), "{}", text(&out));
    let full = SafetensorsCheckpoint::open(&st).unwrap();
    assert_eq!(full.keys(), tf.keys());
    for t in tf.tensors() {
        assert_eq!(full.info(&t.name), Some(t), "{}", t.name);
        assert_eq!(
            full.read_tensor(&t.name).unwrap(),
            tf.read_tensor(&t.name).unwrap()
        );
    }

    // Back to TF1, by the `.ckpt` name: every tensor whole, equal to what TF saved.
    let back = tmp.join("back/model.ckpt");
    let out = scope(&[&"convert", &st, &back]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("model.ckpt.index"), "{said}");
    assert!(said.contains("model.ckpt.data-00000-of-00001"), "{said}");
    assert!(said.contains("TF1 checkpoint file(s)"), "{said}");
    let again = TfCheckpoint::open(&back).unwrap();
    assert_eq!(again.tensors(), tf.tensors());
    for t in tf.tensors() {
        assert_eq!(again.slice_count(&t.name), None, "{}", t.name);
        assert_eq!(
            again.read_tensor(&t.name).unwrap(),
            tf.read_tensor(&t.name).unwrap(),
            "{}",
            t.name
        );
    }

    // TF1 to TF1 without a mapping keeps the slices: the files are TF's, byte for byte.
    let copy = tmp.join("copy/model.ckpt");
    let out = scope(&[&"convert", &p6, &copy]);
    assert!(out.status.success(), "{}", text(&out));
    for suffix in [".index", ".data-00000-of-00001"] {
        let name = |p: &Path| {
            let mut s = p.as_os_str().to_owned();
            s.push(suffix);
            PathBuf::from(s)
        };
        assert_eq!(
            std::fs::read(name(&copy)).unwrap(),
            std::fs::read(name(&p6)).unwrap(),
            "{suffix}"
        );
    }
    std::fs::remove_dir_all(&tmp).unwrap();
}

/// A safetensors file to `y.ckpt` (TF1 by its name), to any prefix with `--format tf1`, and
/// the names that tell no format, or the wrong one, refused before anything is written.
#[test]
fn tf1_output_is_chosen_by_name_or_flag() {
    let tmp = temp_dir("tf1-name");
    let prefix = seed_copy(&tmp.join("seed"));
    let st = tmp.join("x.safetensors");
    let out = scope(&[&"convert", &prefix, &st]);
    assert!(out.status.success(), "{}", text(&out));
    let x = SafetensorsCheckpoint::open(&st).unwrap();
    for output in [tmp.join("y.ckpt"), tmp.join("model.ckpt-1000")] {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"convert", &st, &output];
        if !output.to_string_lossy().ends_with(".ckpt") {
            args.extend([&"--format" as &dyn AsRef<std::ffi::OsStr>, &"tf1"]);
        }
        let out = scope(&args);
        assert!(out.status.success(), "{}", text(&out));
        let y = TfCheckpoint::open(&output).unwrap();
        assert_eq!(y.tensors(), x.tensors());
        for t in x.tensors() {
            assert_eq!(
                y.read_tensor(&t.name).unwrap(),
                x.read_tensor(&t.name).unwrap()
            );
        }
    }
    // Over an earlier checkpoint in two shards: the shard the new index does not name is
    // left, and said so.
    let old_shard = tmp.join("y.ckpt.data-00001-of-00002");
    std::fs::write(&old_shard, b"earlier").unwrap();
    let out = scope(&[&"convert", &st, &tmp.join("y.ckpt")]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!("left {} in place", old_shard.display())),
        "{said}"
    );
    assert_eq!(std::fs::read(&old_shard).unwrap(), b"earlier");
    let refused = assert_refused;
    let bin = tmp.join("z.bin");
    refused(&[&"convert", &st, &bin], "cannot tell which format");
    refused(
        &[&"convert", &st, &bin, &"--format", &"safetensors"],
        "name the output `<name>.safetensors`",
    );
    refused(
        &[
            &"convert",
            &st,
            &tmp.join("z.safetensors"),
            &"--format",
            &"tf1",
        ],
        "--format tf1",
    );
    refused(
        &[
            &"convert",
            &st,
            &tmp.join("z.ckpt"),
            &"--max-shard-size",
            &"1KiB",
        ],
        "one data shard",
    );
    refused(
        &[&"convert", &st, &tmp.join("z.ckpt.index")],
        "give the checkpoint's prefix",
    );
    refused(
        &[&"convert", &st, &tmp.join("z.safetensors.index.json")],
        "name the output `<name>.safetensors`",
    );
    for name in [
        "z.bin",
        "z.safetensors",
        "z.ckpt.index",
        "z.ckpt.data-00000-of-00001",
    ] {
        assert!(!tmp.join(name).exists(), "{name}");
    }
    // Unknown flag values are clap's to refuse.
    let out = scope(&[
        &"convert",
        &st,
        &tmp.join("z.ckpt"),
        &"--cast-mode",
        &"round",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = scope(&[
        &"convert",
        &st,
        &tmp.join("w.ckpt"),
        &"--cast-mode",
        &"wrapping",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    std::fs::remove_dir_all(&tmp).unwrap();
}

/// The input-protection rules hold for both files of a TF1 output: the input's own prefix,
/// a link to one of its files, a FIFO or a directory in the way.
#[test]
fn tf1_output_never_writes_over_its_input() {
    let tmp = temp_dir("tf1-own-input");
    let prefix = seed_copy(&tmp);
    let files = [
        tmp.join("model.ckpt.index"),
        tmp.join("model.ckpt.data-00000-of-00001"),
    ];
    let before = bytes_of(&files);
    let refused = |output: &Path, what: &str| {
        assert_refused(&[&"convert", &prefix, &output, &"--format", &"tf1"], what);
        assert_eq!(
            bytes_of(&files),
            before,
            "{} changed the input",
            output.display()
        );
    };
    refused(&prefix, "a file of the input checkpoint");
    refused(&tmp.join("./model.ckpt"), "a file of the input checkpoint");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&files[1], tmp.join("alias.data-00000-of-00001")).unwrap();
        refused(&tmp.join("alias"), "a file of the input checkpoint");
        std::fs::remove_file(tmp.join("alias.data-00000-of-00001")).unwrap();
    }
    std::fs::hard_link(&files[0], tmp.join("hard.index")).unwrap();
    refused(&tmp.join("hard"), "a file of the input checkpoint");
    std::fs::remove_file(tmp.join("hard.index")).unwrap();
    std::fs::create_dir_all(tmp.join("d.ckpt.index")).unwrap();
    refused(&tmp.join("d.ckpt"), "a directory");
    std::fs::create_dir_all(tmp.join("dir.ckpt")).unwrap();
    refused(&tmp.join("dir.ckpt"), "a directory");
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let fifo = tmp.join("f.ckpt.data-00000-of-00001");
        let made = Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            refused(&tmp.join("f.ckpt"), "--replace-special-file");
            assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
            let out = scope(&[
                &"convert",
                &prefix,
                &tmp.join("f.ckpt"),
                &"--replace-special-file",
            ]);
            assert!(out.status.success(), "{}", text(&out));
            assert!(std::fs::metadata(&fifo).unwrap().is_file());
            assert!(TfCheckpoint::open(tmp.join("f.ckpt")).is_ok());
        }
    }
    std::fs::remove_dir_all(&tmp).unwrap();
}

/// Issue 25, item 2: a save that would replace a checkpoint scope did not write stops with
/// the library's `SaveConflict`, exit 2, and nothing written.
#[test]
fn a_save_conflict_exits_with_its_message() {
    let tmp = temp_dir("conflict");
    let prefix = seed_copy(&tmp.join("seed"));
    let out_dir = tmp.join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let foreign = out_dir.join("model.safetensors.index.json");
    std::fs::write(&foreign, b"{\"metadata\": {}, \"weight_map\": {}}").unwrap();
    let out = scope(&[&"convert", &prefix, &out_dir.join("model.safetensors")]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.starts_with("error: "), "{said}");
    assert!(said.contains("model.safetensors.index.json"), "{said}");
    assert!(said.contains("scope did not write"), "{said}");
    assert!(!out_dir.join("model.safetensors").exists());
    std::fs::remove_dir_all(&tmp).unwrap();
}

/// Issue 25 (the save helper's finding): a directory whose TF `checkpoint` state file is a
/// FIFO is refused, not waited on.
#[cfg(unix)]
#[test]
fn a_fifo_state_file_is_refused() {
    let tmp = temp_dir("state-fifo");
    seed_copy(&tmp);
    let made = Command::new("mkfifo").arg(tmp.join("checkpoint")).status();
    if made.is_ok_and(|s| s.success()) {
        for args in [
            vec![&"inspect" as &dyn AsRef<std::ffi::OsStr>, &tmp],
            vec![&"import", &tmp],
            vec![&"diff", &tmp, &tmp],
            vec![&"convert", &tmp, &tmp.join("x.safetensors")],
        ] {
            // A deadline: without the check the command blocks on the FIFO for good.
            let mut child = Command::new(env!("CARGO_BIN_EXE_scope"))
                .args(args.iter().map(|a| a.as_ref()))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("the scope binary runs");
            let start = std::time::Instant::now();
            while child.try_wait().unwrap().is_none() {
                if start.elapsed() > std::time::Duration::from_secs(20) {
                    child.kill().unwrap();
                    child.wait().unwrap();
                    // Unblock and remove the FIFO before failing.
                    std::fs::remove_dir_all(&tmp).unwrap();
                    panic!("scope waited on the FIFO state file");
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            let out = child.wait_with_output().unwrap();
            let said = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{said}");
            assert!(said.contains("state file"), "{said}");
        }
    }
    std::fs::remove_dir_all(&tmp).unwrap();
}
