//! How a TF1 checkpoint's partitioned variables were saved: in how many slices, along which
//! axis, and whether as TF's partitioners split (the first `dim % n` parts one row longer),
//! for `inspect` to show and `import` to declare.

use scope::checkpoint::{Checkpoint, Format, TfCheckpoint};
use scope::partition::Slice;

/// How one checkpoint entry is sliced.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Split {
    /// The number of slices.
    pub(crate) slices: usize,
    /// The one axis the slices divide (every TF partitioner divides one); `None` when they
    /// divide several.
    pub(crate) axis: Option<usize>,
    /// Whether the slices are TF's split of `axis` into `slices` parts, in order: what
    /// `fixed_size_partitioner(slices, axis)` (or any TF partitioner asking for that many
    /// parts) makes, so that a declaration with it creates the same parts.
    pub(crate) tf_split: bool,
}

impl Split {
    /// The split of an entry of shape `full` saved in `slices`.
    pub(crate) fn of(full: &[usize], slices: &[Slice]) -> Split {
        let mut divided: Vec<usize> = (0..full.len())
            .filter(|&d| slices.iter().any(|s| s.shape.get(d) != Some(&full[d])))
            .collect();
        let axis = match divided.len() {
            // One slice holding everything: one part, along any axis (TF's default is 0).
            0 if !full.is_empty() => Some(0),
            1 => divided.pop(),
            _ => None,
        };
        let tf_split = axis.is_some_and(|a| is_tf_split(full, slices, a));
        Split {
            slices: slices.len(),
            axis,
            tf_split,
        }
    }

    /// `3 slices on axis 0`, or `3 slices` when they divide several axes.
    pub(crate) fn describe(&self) -> String {
        let s = if self.slices == 1 { "" } else { "s" };
        match self.axis {
            Some(a) => format!("{} slice{s} on axis {a}", self.slices),
            None => format!("{} slice{s}", self.slices),
        }
    }
}

/// Whether `slices` split axis `axis` of `full` as TF does: `n` parts in order, the first
/// `dim % n` of `dim / n + 1` rows, the others of `dim / n`, every other axis whole.
fn is_tf_split(full: &[usize], slices: &[Slice], axis: usize) -> bool {
    let n = slices.len();
    let dim = full[axis];
    if n == 0 || n > dim {
        return false;
    }
    let mut starts: Vec<(usize, usize)> = slices
        .iter()
        .map(|s| (s.start[axis], s.shape[axis]))
        .collect();
    starts.sort_unstable();
    let mut next = 0;
    for (k, &(start, len)) in starts.iter().enumerate() {
        let want = dim / n + usize::from(k < dim % n);
        if start != next || len != want {
            return false;
        }
        next += len;
    }
    slices
        .iter()
        .all(|s| (0..full.len()).all(|d| d == axis || (s.start[d] == 0 && s.shape[d] == full[d])))
}

/// The TF1 checkpoint `ckpt` is, opened again by its prefix for what the front door does not
/// show (how partitioned variables are sliced). `None` for another format, or if it no longer
/// opens.
pub(crate) fn tf1_of(ckpt: &Checkpoint) -> Option<TfCheckpoint> {
    if ckpt.format() != Format::Tf1 {
        return None;
    }
    let index = ckpt.files().first()?;
    if index.extension()? != "index" {
        return None;
    }
    TfCheckpoint::open(index.with_extension("")).ok()
}

/// For each tensor of `ckpt` (by its index in `ckpt.tensors()`), how it is sliced, if it is:
/// only a TF1 checkpoint stores partitioned variables in slices.
pub(crate) fn splits(ckpt: &Checkpoint) -> Vec<Option<Split>> {
    use scope::checkpoint::CheckpointSource;
    let tensors = ckpt.tensors();
    let Some(tf) = tf1_of(ckpt) else {
        return vec![None; tensors.len()];
    };
    tensors
        .iter()
        .map(|t| {
            let slices = tf.slices(&t.name);
            (!slices.is_empty()).then(|| Split::of(&t.shape, &slices))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(full: &[usize], parts: &[(usize, usize)]) -> Vec<Slice> {
        parts
            .iter()
            .map(|&(start, len)| {
                let mut s = Slice::full(full);
                s.start[0] = start;
                s.shape[0] = len;
                s
            })
            .collect()
    }

    #[test]
    fn tells_tf_splits_from_others() {
        let full = [10, 4];
        let tf = Split::of(&full, &rows(&full, &[(0, 4), (4, 3), (7, 3)]));
        assert_eq!((tf.slices, tf.axis, tf.tf_split), (3, Some(0), true));
        assert_eq!(tf.describe(), "3 slices on axis 0");
        // In the entry's order or not, the parts are the same.
        let shuffled = Split::of(&full, &rows(&full, &[(7, 3), (0, 4), (4, 3)]));
        assert!(shuffled.tf_split);
        let uneven = Split::of(&full, &rows(&full, &[(0, 3), (3, 3), (6, 4)]));
        assert_eq!((uneven.axis, uneven.tf_split), (Some(0), false));
        let one = Split::of(&full, &[Slice::full(&full)]);
        assert_eq!((one.axis, one.tf_split), (Some(0), true));
        assert_eq!(one.describe(), "1 slice on axis 0");
        let cols = [
            Slice {
                start: vec![0, 0],
                shape: vec![10, 2],
            },
            Slice {
                start: vec![0, 2],
                shape: vec![10, 2],
            },
        ];
        let c = Split::of(&full, &cols);
        assert_eq!((c.axis, c.tf_split), (Some(1), true));
        let grid = [
            Slice {
                start: vec![0, 0],
                shape: vec![5, 2],
            },
            Slice {
                start: vec![5, 0],
                shape: vec![5, 2],
            },
            Slice {
                start: vec![0, 2],
                shape: vec![10, 2],
            },
        ];
        let g = Split::of(&full, &grid);
        assert_eq!((g.axis, g.tf_split), (None, false));
        assert_eq!(g.describe(), "3 slices");
    }
}
