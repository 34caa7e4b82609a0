// A leak for the symbolizer's language tests (language_test.cc): Consumer<T>::run waits on a
// channel whose sender is never dropped. Built by Debian's rustc, once with its default (legacy)
// symbol mangling and once with -C symbol-mangling-version=v0. No sleeps: main waits until the
// consumer has handled the one job, after which the consumer only waits.
use std::sync::mpsc;
use std::thread;

pub struct Consumer<T> {
    jobs: mpsc::Receiver<T>,
    done: mpsc::Sender<()>,
}

impl<T> Consumer<T> {
    #[inline(never)]
    pub fn run(&self) -> usize {
        let mut handled = 0;
        while let Ok(_job) = self.jobs.recv() {
            handled += 1;
            let _ = self.done.send(());
        }
        handled
    }
}

fn main() {
    let (jobs, jobs_rx) = mpsc::channel::<u32>();
    let (done_tx, done) = mpsc::channel();
    let consumer = Consumer { jobs: jobs_rx, done: done_tx };
    thread::Builder::new()
        .name("consumer".into())
        .spawn(move || consumer.run())
        .unwrap();
    jobs.send(1).unwrap();
    done.recv().unwrap();
    // Never dropped: the consumer waits for a job that never comes.
    std::mem::forget(jobs);
}
