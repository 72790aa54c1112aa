#include "store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "db.h"
#include "util.h"

int
store_sync_config(struct db *db, const struct config *cfg)
{
	if (db_x(db, "UPDATE users SET active=0", "") < 0 ||
	    db_x(db, "UPDATE products SET active=0", "") < 0)
		return -1;
	for (size_t i = 0; i < cfg->nusers; i++) {
		const struct cfg_user *u = &cfg->users[i];
		if (db_x(db,
		        "INSERT INTO users(login,name,email,role,lang,phone,active)"
		        " VALUES(?1,?2,?3,?4,?5,?6,1)"
		        " ON CONFLICT(login) DO UPDATE SET name=?2,email=?3,role=?4,"
		        " lang=?5,phone=?6,active=1",
		        "tttttt", u->login, u->name, u->email, role_name(u->role), u->lang,
		        u->phone) < 0)
			return -1;
	}
	for (size_t i = 0; i < cfg->nusers; i++) {
		const struct cfg_user *u = &cfg->users[i];
		if (db_x(db,
		        "UPDATE users SET supervisor_id=(SELECT id FROM users WHERE login=?2)"
		        " WHERE login=?1",
		        "tt", u->login, u->supervisor) < 0)
			return -1;
	}
	for (size_t i = 0; i < cfg->nproducts; i++) {
		const struct cfg_product *p = &cfg->products[i];
		if (db_x(db,
		        "INSERT INTO products(sku,name_pl,name_de,unit,vat_bp,price_pln,"
		        "price_eur,active) VALUES(?1,?2,?3,?4,?5,?6,?7,1)"
		        " ON CONFLICT(sku) DO UPDATE SET name_pl=?2,name_de=?3,unit=?4,"
		        " vat_bp=?5,price_pln=?6,price_eur=?7,active=1",
		        "ttttdii", p->sku, p->name_pl, p->name_de, unit_name(p->unit), p->vat_bp,
		        p->price_pln, p->price_eur) < 0)
			return -1;
	}
	return 0;
}

int64_t
store_user_id(struct db *db, const char *login)
{
	int64_t id;
	return db_1i(db, &id, "SELECT id FROM users WHERE login=?1", "t", login) == 1 ? id : -1;
}

const struct cfg_user *
store_user_cfg(struct app *app, int64_t user_id)
{
	char *login = NULL;
	if (db_1s(app->db, &login, "SELECT login FROM users WHERE id=?1", "i", user_id) != 1)
		return NULL;
	const struct cfg_user *u = config_user(app->cfg, login);
	free(login);
	return u;
}

int64_t
hist_add(struct db *db, int64_t project, int64_t message, const char *actor,
    const char *kind, const char *fmt, ...)
{
	struct sbuf sb = {0};
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	char *text = sb_steal(&sb);
	int r = db_x(db,
	    "INSERT INTO events(project_id,message_id,time,actor,kind,text)"
	    " VALUES(NULLIF(?1,0),NULLIF(?2,0),?3,?4,?5,?6)",
	    "iiitt" "t", project, message, now_epoch(), actor, kind, text);
	free(text);
	return r < 0 ? -1 : db_last_id(db);
}

int64_t
hist_add_encrypted(struct db *db, int64_t project, int64_t message, const char *kind,
    const char *from)
{
	return hist_add(db, project, message, "system", "encrypted",
	    "%s: message from %s is encrypted and cannot be read without the recipient's key;"
	    " ask the sender for an unencrypted copy",
	    kind, from ? from : "");
}

int
hist_encrypted(struct db *db, int64_t project, int64_t message, char *kind, size_t kindlen)
{
	if (!project || !message)
		return 0;
	char *text = NULL;
	int r = db_1s(db, &text,
	    "SELECT text FROM events WHERE project_id=?1 AND message_id=?2 AND kind='encrypted'"
	    " LIMIT 1", "ii", project, message);
	if (r == 1) {
		const char *colon = strchr(text, ':');
		size_t n = colon ? (size_t)(colon - text) : 0;
		snprintf(kind, kindlen, "%.*s", (int)n, text);
	}
	free(text);
	return r;
}

int64_t
task_create(struct db *db, int64_t project, int64_t message, const char *kind,
    int64_t assignee, const char *title, const char *description,
    const char *actions, int64_t due)
{
	if (db_x(db,
	        "INSERT INTO tasks(project_id,message_id,kind,assignee_id,title,"
	        "description,actions,status,created,due)"
	        " VALUES(NULLIF(?1,0),NULLIF(?2,0),?3,?4,?5,?6,?7,'open',?8,NULLIF(?9,0))",
	        "iititttii", project, message, kind, assignee, title, description,
	        actions ? actions : "", now_epoch(), due) < 0)
		return -1;
	return db_last_id(db);
}
