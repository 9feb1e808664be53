use scope::model;

model! {
    pub struct Heads("heads") {
        table: [4, 2],
        #[var(tied = table)]
        output_weights: [4, 2],
    }
}

fn main() {}
