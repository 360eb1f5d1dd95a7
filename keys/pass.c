/* pass.c - passphrases: from a file or typed on the terminal, never echoed,
 * always wiped. */
#include "keys.h"
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#define PASSFILE_MAX 4096
#define KEYFILE_MAX 4096

/* The first line of file, without "\n" or "\r\n". */
static int passphrase_from_file(const char *file, char out[EMG_PASSPHRASE_MAX + 1], emg_err *err)
{
	uint8_t *buf = NULL;
	size_t len = 0, n;
	int rc;

	rc = emg_read_file(file, PASSFILE_MAX, EMG_ECONFIG, &buf, &len, err);
	if (rc != EMG_OK)
		return rc;
	for (n = 0; n < len && buf[n] != '\n'; n++)
		;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (memchr(buf, '\0', n) != NULL)
		rc = emg_fail(err, EMG_ECONFIG, "%s: passphrase contains a NUL byte", file);
	else if (n > EMG_PASSPHRASE_MAX)
		rc = emg_fail(err, EMG_ECONFIG, "%s: passphrase longer than %d bytes", file,
			      EMG_PASSPHRASE_MAX);
	if (rc == EMG_OK) {
		memcpy(out, buf, n);
		out[n] = '\0';
	}
	emg_free_secret(buf, len);
	return rc;
}

/* Reads one line from the terminal fd with echo turned off. The signals a
 * terminal sends are held back meanwhile and delivered once echo is back
 * on, so Ctrl-C never leaves the terminal silent (and needs no handler). */
static int read_noecho(int fd, const char *prompt, char out[EMG_PASSPHRASE_MAX + 1], emg_err *err)
{
	struct termios old, quiet;
	sigset_t hold, saved;
	size_t n = 0;
	int rc = EMG_OK, restore;
	char ch;

	sigemptyset(&hold);
	sigaddset(&hold, SIGINT);
	sigaddset(&hold, SIGQUIT);
	sigaddset(&hold, SIGTSTP);
	sigaddset(&hold, SIGTERM);
	sigaddset(&hold, SIGHUP);
	sigprocmask(SIG_BLOCK, &hold, &saved);
	restore = tcgetattr(fd, &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
			int e = errno;
			sigprocmask(SIG_SETMASK, &saved, NULL);
			return emg_fail(err, EMG_EIO, "/dev/tty: cannot turn echo off: %s", strerror(e));
		}
	}
	if (write(fd, prompt, strlen(prompt)) < 0)
		rc = emg_fail(err, EMG_EIO, "/dev/tty: %s", strerror(errno));
	while (rc == EMG_OK) {
		ssize_t r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = emg_fail(err, EMG_EIO, "/dev/tty: %s", strerror(errno));
		} else if (r == 0 || ch == '\n') {
			break;
		} else if (n >= EMG_PASSPHRASE_MAX) {
			rc = emg_fail(err, EMG_EUSAGE, "passphrase longer than %d bytes",
				      EMG_PASSPHRASE_MAX);
		} else if (ch != '\r') {
			out[n++] = ch;
		}
	}
	out[n] = '\0';
	sodium_memzero(&ch, sizeof ch);
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0 && rc == EMG_OK)
		rc = emg_fail(err, EMG_EIO, "/dev/tty: %s", strerror(errno));
	if (rc != EMG_OK)
		sodium_memzero(out, EMG_PASSPHRASE_MAX + 1);
	/* A held-back Ctrl-C is delivered here, with echo restored. */
	sigprocmask(SIG_SETMASK, &saved, NULL);
	return rc;
}

static int passphrase_from_tty(const char *prompt, int confirm, char out[EMG_PASSPHRASE_MAX + 1],
			       emg_err *err)
{
	char again[EMG_PASSPHRASE_MAX + 1];
	int fd, rc;

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return emg_fail(err, EMG_EUSAGE,
				"no terminal to ask for the passphrase (/dev/tty: %s); use --passphrase-file",
				strerror(errno));
	rc = read_noecho(fd, prompt, out, err);
	if (rc == EMG_OK && confirm) {
		rc = read_noecho(fd, "Passphrase (again): ", again, err);
		if (rc == EMG_OK && (strlen(again) != strlen(out) ||
				     sodium_memcmp(again, out, strlen(out)) != 0))
			rc = emg_fail(err, EMG_EUSAGE, "the passphrases do not match");
		sodium_memzero(again, sizeof again);
	}
	close(fd);
	if (rc != EMG_OK)
		sodium_memzero(out, EMG_PASSPHRASE_MAX + 1);
	return rc;
}

int emg_passphrase_get(const char *file, const char *prompt, int confirm,
		       char out[EMG_PASSPHRASE_MAX + 1], emg_err *err)
{
	if (file != NULL)
		return passphrase_from_file(file, out, err);
	return passphrase_from_tty(prompt, confirm, out, err);
}

int emg_seckey_open(const char *path, const char *passphrase_file, emg_seckey *out, emg_err *err)
{
	char pass[EMG_PASSPHRASE_MAX + 1];
	char prompt[600];
	uint8_t *buf = NULL;
	size_t len = 0;
	int encrypted = 0, rc;

	rc = emg_read_file(path, KEYFILE_MAX, EMG_ECONFIG, &buf, &len, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_seckey_is_encrypted((const char *)buf, len, &encrypted, err);
	if (rc == EMG_OK && encrypted) {
		snprintf(prompt, sizeof prompt, "Passphrase for %s: ", path);
		rc = emg_passphrase_get(passphrase_file, prompt, 0, pass, err);
		if (rc == EMG_OK)
			rc = emg_seckey_parse((const char *)buf, len, pass, out, err);
		else
			path = NULL; /* the message already names the passphrase source */
	} else if (rc == EMG_OK) {
		rc = emg_seckey_parse((const char *)buf, len, NULL, out, err);
	}
	sodium_memzero(pass, sizeof pass);
	emg_free_secret(buf, len);
	if (rc != EMG_OK && path != NULL)
		return emg_err_prefix(err, "%s", path);
	return rc;
}
