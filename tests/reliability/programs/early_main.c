/* Links early_library, whose constructor starts a thread before the shim's constructor ran. */
#include <stdio.h>
#include <unistd.h>

int early_library_started(void);
int early_library_posted_value(void);

int main(void) {
  usleep(10000); /* let the early thread reach pause() */
  printf("early_started=%d\n", early_library_started());
  printf("early_posted_value=%d\n", early_library_posted_value());
  return 0;
}
