/* strict_runtime: the strict-mode library carries no Swift runtime into the client: no libswift* mapped, no Swift symbol resolvable, no Swift signal handlers (a client's abort prints the client's own message only, and dies of SIGABRT). Skips without the library. */
#include "igt_lite.h"

#include <sys/wait.h>

#define NAME "strict_runtime"

int main(int argc, char **argv)
{
	alarm(60);
	const char *path = igt_init(argc, argv, NAME);
	if (!strict_mode())
		skip(NAME, "needs strict mode (LD_PRELOAD=libfakedrm-preload.so)");
	/* The library is in use: a device fd is recognised. */
	int fd = drm_open(path);
	uint32_t h = gem_create(fd, PAGE_SZ);
	uint32_t *p = gem_mmap(fd, mmap_offset(fd, h, I915_MMAP_OFFSET_WB), PAGE_SZ, PROT_READ | PROT_WRITE);
	p[0] = 1;
	CHECK_OK(munmap(p, PAGE_SZ));

	FILE *maps = fopen("/proc/self/maps", "r");
	CHECK(maps);
	char line[4096];
	while (fgets(line, sizeof(line), maps))
		CHECK_MSG(!strstr(line, "libswift") && !strstr(line, "libFoundation") && !strstr(line, "libdispatch"),
			  "a Swift library is mapped into the client: %s", line);
	fclose(maps);
	static const char *const symbols[] = { "swift_retain", "swift_release", "swift_addNewDSOImage", "$sSSN" };
	for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++)
		CHECK_MSG(dlsym(RTLD_DEFAULT, symbols[i]) == NULL, "%s resolves in the client", symbols[i]);

	/* Another runtime's handler would show here (igt_lite sets none for SIGABRT). */
	struct sigaction old;
	CHECK_OK(sigaction(SIGABRT, NULL, &old));
	CHECK_MSG(old.sa_handler == SIG_DFL, "a SIGABRT handler is installed in the client");

	/* A client that aborts says only what it says. */
	int pipefd[2];
	CHECK_OK(pipe(pipefd));
	pid_t child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		const char msg[] = "client: giving up\n";
		if (write(2, msg, sizeof(msg) - 1) < 0)
			_exit(3);
		/* Whatever handler a runtime installed for SIGABRT stays. */
		abort();
	}
	close(pipefd[1]);
	char out[8192];
	size_t n = 0;
	ssize_t r;
	while (n < sizeof(out) - 1 && (r = read(pipefd[0], out + n, sizeof(out) - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = 0;
	close(pipefd[0]);
	int status = 0;
	CHECK(waitpid(child, &status, 0) == child);
	CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "the aborting child ended with status 0x%x", status);
	CHECK_MSG(strcmp(out, "client: giving up\n") == 0, "an aborting client printed more than its message:\n%s", out);

	gem_close(fd, h);
	close(fd);
	pass(NAME, "no Swift runtime in a strict-mode client: nothing mapped, no symbol, an abort says only the client's message");
	return 0;
}
