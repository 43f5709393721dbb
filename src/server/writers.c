/*
 * writers.c
 *		Threads that answer writes, each with a database connection of its
 *		own, so that a worker waiting for a commit's WAL flush does not hold
 *		up the reads of every client it serves.
 *
 * A worker suspends the client's connection, queues the write here and goes
 * on with its other clients; the writer runs it and resumes the connection,
 * and libmicrohttpd calls the worker's handler again to send the answer.
 */
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>

#include "server.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static Call *head;
static Call *tail;
static bool stopping;
static pthread_t *threads;
static int nthreads;

static void *
writer_main(void *arg)
{
	(void) arg;
	for (;;)
	{
		Call	   *call;

		pthread_mutex_lock(&lock);
		while (head == NULL && !stopping)
			pthread_cond_wait(&wake, &lock);
		call = head;
		if (call == NULL)
		{
			pthread_mutex_unlock(&lock);
			break;
		}
		head = call->next;
		if (head == NULL)
			tail = NULL;
		pthread_mutex_unlock(&lock);

		DbHandle(call);
		atomic_store_explicit(&call->done, true, memory_order_release);
		MHD_resume_connection(call->connection);
		if (call->wake_fd >= 0)
			(void) eventfd_write(call->wake_fd, 1);
	}
	DbClose();
	return NULL;
}

/* Start n writer threads; false if a thread could not be made. */
bool
WritersStart(int n)
{
	threads = calloc((size_t) (n > 0 ? n : 1), sizeof(pthread_t));
	if (threads == NULL)
		return false;
	for (; nthreads < n; nthreads++)
	{
		if (pthread_create(&threads[nthreads], NULL, writer_main, NULL) != 0)
			return false;
	}
	return true;
}

/* Queue a write; its connection must already be suspended. */
void
WritersSubmit(Call *call)
{
	call->next = NULL;
	pthread_mutex_lock(&lock);
	if (tail != NULL)
		tail->next = call;
	else
		head = call;
	tail = call;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
}

/* Let the writers finish what is queued, then end them. */
void
WritersStop(void)
{
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	threads = NULL;
	nthreads = 0;
}
