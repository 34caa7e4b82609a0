// GLib: a child watch starts GLib's worker context thread ("gmain"); a shared thread pool
// starts "pool-spawner" and leaves idle workers. "leak" adds one thread of the program's own.
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "own_leak.h"

static void OnChildExit(GPid pid, gint status, gpointer data) {
  (void)pid;
  (void)status;
  g_main_loop_quit(data);
}

static void Work(gpointer item, gpointer data) {
  (void)data;
  g_atomic_int_inc((gint*)item);
}

int main(int argc, char** argv) {
  GMainLoop* loop = g_main_loop_new(NULL, FALSE);
  pid_t child = fork();
  if (child == 0) _exit(0);
  g_child_watch_add(child, OnChildExit, loop);
  g_main_loop_run(loop);
  g_main_loop_unref(loop);

  gint done = 0;
  GThreadPool* pool = g_thread_pool_new(Work, NULL, 2, FALSE, NULL);
  for (int i = 0; i < 8; ++i) g_thread_pool_push(pool, &done, NULL);
  g_thread_pool_free(pool, FALSE, TRUE);

  if (argc > 1 && strcmp(argv[1], "leak") == 0) StartOwnLeak();
  printf("done %d\n", g_atomic_int_get(&done));
  return 0;
}
