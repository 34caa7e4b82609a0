// A process whose thread forks all the time, and whose children keep every descriptor they
// inherited until the process ends (a prefork server's workers that never exec). A child forked
// while a dump is written inherits the requester's pipe: `threadleak dump` must still return
// once the dump is written. Prints "ready"; ends when STOP_FILE exists.
// Usage: forks_during_dump STOP_FILE
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace {

int g_parent_alive[2];  // children read it: the end of the file is the parent's end
std::atomic<bool> g_stop{false};

void* Fork(void*) {
  pthread_setname_np(pthread_self(), "forker");
  while (!g_stop.load()) {
    if (fork() == 0) {
      char byte;
      close(g_parent_alive[1]);
      while (read(g_parent_alive[0], &byte, 1) > 0) {
      }
      _exit(0);
    }
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    usleep(2'000);
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || pipe(g_parent_alive) != 0) {
    fprintf(stderr, "usage: forks_during_dump STOP_FILE\n");
    return 2;
  }
  pthread_t forker;
  pthread_create(&forker, nullptr, Fork, nullptr);
  printf("ready\n");
  fflush(stdout);
  while (access(argv[1], F_OK) != 0) usleep(10'000);
  g_stop.store(true);
  pthread_join(forker, nullptr);
  close(g_parent_alive[1]);  // every child ends
  while (wait(nullptr) > 0) {
  }
  return 0;
}
