// A Go program with cgo for the symbolizer's language tests (language_test.cc): a C thread parks
// on a condition variable forever, and main sleeps until threadleak's time limit dumps every
// thread — the Go runtime's and the C one — so that each frame's file:line can be compared with
// `go tool addr2line`. StartLeak returns only once the thread waits: no sleeps decide anything.
package main

/*
#cgo CFLAGS: -g -O1
#include <pthread.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static pthread_cond_t started_cond = PTHREAD_COND_INITIALIZER;
static int started;

__attribute__((noinline)) static void* Park(void* arg) {
  pthread_mutex_lock(&mu);
  started = 1;
  pthread_cond_signal(&started_cond);
  for (;;) pthread_cond_wait(&never, &mu);  // releases mu: StartLeak goes on
  return arg;
}

static void StartLeak(void) {
  pthread_t thread;
  pthread_mutex_lock(&mu);
  pthread_create(&thread, 0, Park, 0);
  while (!started) pthread_cond_wait(&started_cond, &mu);
  pthread_mutex_unlock(&mu);
}
*/
import "C"

import (
	"os"
	"time"
)

// The sleep is a minute, or the duration given as the argument (then main returns, leaking the
// C thread: the Go runtime ends the process).
func main() {
	C.StartLeak()
	sleep := time.Minute
	if len(os.Args) > 1 {
		if given, err := time.ParseDuration(os.Args[1]); err == nil {
			sleep = given
		}
	}
	time.Sleep(sleep)
}
