// Names taken from identifiers are checked too: TF's names are ASCII.
use scope::model;

model! {
    pub struct Dense("dense", n: usize) {
        poids_é: [n],
        couche_é { w: [n] }
    }
}

fn main() {}
