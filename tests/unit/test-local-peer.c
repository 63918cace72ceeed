/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tests of the sender rule of the sendmail socket: root and members of the
 * outpost-submit group may use any sender, other users their login name at
 * the host name or an address in a managed domain, and no user the null
 * sender.
 */
#include "sendmail/op-local-peer.h"

#include <string.h>

#define HOSTNAME "mail.example.org"

typedef struct {
	const char *name;
	guint uid;
	const char *user;
	gboolean in_group;
	const char *sender;
	gboolean managed;
	/* The reply code expected, or NULL when the sender is allowed. */
	const char *reply;
} SenderCase;

static const SenderCase sender_cases[] = {
	{"root-any", 0, "root", FALSE, "ceo@elsewhere.example", FALSE, NULL},
	{"group-any", 1000, "shop", TRUE, "ceo@elsewhere.example", FALSE, NULL},
	{"user-managed", 1000, "shop", FALSE, "app@example.org", TRUE, NULL},
	{"user-own-login", 33, "www-data", FALSE, "www-data@mail.example.org", FALSE, NULL},
	{"user-own-login-case", 33, "www-data", FALSE, "www-data@MAIL.example.org", FALSE, NULL},
	{"user-other-login", 33, "www-data", FALSE, "root@mail.example.org", FALSE, "553 5.7.1"},
	{"user-login-prefix", 33, "www", FALSE, "www-data@mail.example.org", FALSE, "553 5.7.1"},
	{"user-login-other-host", 33, "www-data", FALSE, "www-data@example.net", FALSE,
	 "553 5.7.1"},
	{"user-unmanaged", 1000, "shop", FALSE, "ceo@elsewhere.example", FALSE, "553 5.7.1"},
	{"no-passwd-managed", 4242, NULL, FALSE, "app@example.org", TRUE, NULL},
	{"no-passwd-unmanaged", 4242, NULL, FALSE, "4242@mail.example.org", FALSE, "553 5.7.1"},
	{"root-null-sender", 0, "root", FALSE, "", FALSE, "553 5.1.7"},
	{"user-null-sender", 1000, "shop", TRUE, "", TRUE, "553 5.1.7"},
};

static void
test_check_sender(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(sender_cases); i++) {
		const SenderCase *c = &sender_cases[i];
		g_autoptr(OpLocalPeer) peer = op_local_peer_new(c->uid, c->user, c->in_group);
		g_autofree char *reply = op_local_peer_check_sender(peer, c->sender, HOSTNAME,
								    c->managed);

		g_test_message("case %s: %s", c->name, reply ? reply : "allowed");
		if (c->reply == NULL) {
			g_assert_null(reply);
			continue;
		}
		g_assert_nonnull(reply);
		g_assert_true(g_str_has_prefix(reply, c->reply));
	}
}

/* The rejection names the senders that would pass. */
static void
test_rejection_text(void)
{
	g_autoptr(OpLocalPeer) peer = op_local_peer_new(33, "www-data", FALSE);
	g_autofree char *reply = op_local_peer_check_sender(peer, "ceo@elsewhere.example",
							    HOSTNAME, FALSE);

	g_assert_nonnull(reply);
	g_assert_nonnull(strstr(reply, "<ceo@elsewhere.example>"));
	g_assert_nonnull(strstr(reply, "www-data@mail.example.org"));
	g_assert_nonnull(strstr(reply, OP_SUBMIT_GROUP));
}

static void
test_description(void)
{
	g_autoptr(OpLocalPeer) named = op_local_peer_new(33, "www-data", FALSE);
	g_autoptr(OpLocalPeer) unnamed = op_local_peer_new(4242, NULL, FALSE);
	g_autoptr(OpLocalPeer) root = op_local_peer_new(0, "root", FALSE);

	g_assert_cmpstr(named->description, ==, "local uid=33 (www-data)");
	g_assert_cmpstr(unnamed->description, ==, "local uid=4242");
	g_assert_false(named->any_sender);
	g_assert_true(root->any_sender);
}

/* uid 0 exists everywhere: the lookup names it and lets it use any sender. */
static void
test_lookup_root(void)
{
	g_autoptr(OpLocalPeer) peer = op_local_peer_lookup(0);

	g_assert_cmpuint(peer->uid, ==, 0);
	g_assert_cmpstr(peer->user, ==, "root");
	g_assert_true(peer->any_sender);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sendmail/local-peer/check-sender", test_check_sender);
	g_test_add_func("/sendmail/local-peer/rejection-text", test_rejection_text);
	g_test_add_func("/sendmail/local-peer/description", test_description);
	g_test_add_func("/sendmail/local-peer/lookup-root", test_lookup_root);
	return g_test_run();
}
