--! Previous: -
--! Hash: sha1:577afcbfc184001a43f51807d9afcb6546672822
--! Message: initial schema

-- The Gaia schema, version 1.
--
-- One database per environment holds everything, authentication included: no auth store is
-- shared between environments, so an account made in dev can never sign in to production.
-- Conversations and messages follow the normalised model (messages reference their
-- conversation, which references its user): ownership is derived, and deleting a user
-- cascades through every row that is theirs.

create or replace function set_updated_at() returns trigger
language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

create table users (
  id            uuid primary key default gen_random_uuid(),
  email         varchar(255) not null,
  name          varchar(255),
  -- Argon2 hash; null for accounts that only sign in through OAuth.
  password_hash text,
  is_admin      boolean not null default false,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now(),
  constraint users_email_format check (email ~ '^[^@\s]+@[^@\s]+$')
);
-- Case-insensitive uniqueness: Jason@x and jason@x are one account.
create unique index users_email_key on users (lower(email));
create index users_created_at_idx on users (created_at);

create table providers (
  id           varchar(50) primary key,
  display_name varchar(255) not null,
  base_url     text,
  is_enabled   boolean not null default true,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now()
);

create table api_keys (
  id           uuid primary key default gen_random_uuid(),
  user_id      uuid not null references users (id) on delete cascade,
  -- SHA-256 of the key, lowercase hex. The key itself is never stored.
  key_hash     char(64) not null unique constraint api_keys_key_hash_sha256 check (key_hash ~ '^[0-9a-f]{64}$'),
  name         varchar(255),
  permissions  jsonb not null default '{}',
  is_active    boolean not null default true,
  expires_at   timestamptz,
  last_used_at timestamptz,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now()
);
create index api_keys_user_id_idx on api_keys (user_id);
create index api_keys_active_idx on api_keys (user_id) where is_active;

-- A user's own key for an LLM provider, encrypted by the application.
create table provider_keys (
  id            uuid primary key default gen_random_uuid(),
  user_id       uuid not null references users (id) on delete cascade,
  provider_id   varchar(50) not null references providers (id) on delete cascade,
  encrypted_key bytea not null,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now(),
  constraint provider_keys_one_per_provider unique (user_id, provider_id)
);
create index provider_keys_provider_id_idx on provider_keys (provider_id);

create table conversations (
  id         uuid primary key default gen_random_uuid(),
  user_id    uuid not null references users (id) on delete cascade,
  title      varchar(255),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index conversations_user_recent_idx on conversations (user_id, updated_at desc);
create index conversations_created_at_idx on conversations (created_at);

create table messages (
  id              uuid primary key default gen_random_uuid(),
  conversation_id uuid not null references conversations (id) on delete cascade,
  role            varchar(20) not null check (role in ('user', 'assistant', 'system', 'tool')),
  content         text not null,
  model           varchar(100),
  provider_id     varchar(50) references providers (id) on delete set null,
  tokens_used     integer check (tokens_used >= 0),
  created_at      timestamptz not null default now()
);
create index messages_conversation_order_idx on messages (conversation_id, created_at);
create index messages_created_at_idx on messages (created_at);

create table assets (
  id                uuid primary key default gen_random_uuid(),
  user_id           uuid not null references users (id) on delete cascade,
  type              varchar(50) not null,
  name              varchar(255) not null,
  description       text,
  url               text,
  metadata          jsonb not null default '{}',
  generation_params jsonb not null default '{}',
  status            varchar(20) not null default 'pending'
                    check (status in ('pending', 'processing', 'ready', 'failed')),
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now()
);
create index assets_user_id_idx on assets (user_id);
create index assets_type_idx on assets (type);
create index assets_status_idx on assets (status);

create table oauth_accounts (
  id                  uuid primary key default gen_random_uuid(),
  user_id             uuid not null references users (id) on delete cascade,
  provider            varchar(50) not null,
  provider_account_id varchar(255) not null,
  access_token        text,
  refresh_token       text,
  token_expires_at    timestamptz,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now(),
  constraint oauth_accounts_provider_account unique (provider, provider_account_id)
);
create index oauth_accounts_user_id_idx on oauth_accounts (user_id);

create table sessions (
  id           uuid primary key default gen_random_uuid(),
  user_id      uuid not null references users (id) on delete cascade,
  -- SHA-256 of the session token; the token lives only in the client.
  token_hash   char(64) not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
  ip_address   inet,
  user_agent   text,
  expires_at   timestamptz not null,
  created_at   timestamptz not null default now(),
  last_seen_at timestamptz
);
create index sessions_user_id_idx on sessions (user_id);
create index sessions_expires_at_idx on sessions (expires_at);

create table access_control (
  id            uuid primary key default gen_random_uuid(),
  user_id       uuid not null references users (id) on delete cascade,
  resource_type varchar(50) not null,
  resource_id   varchar(255) not null,
  permission    varchar(20) not null check (permission in ('read', 'write', 'admin')),
  granted_by    uuid references users (id) on delete set null,
  created_at    timestamptz not null default now(),
  constraint access_control_unique_grant unique (user_id, resource_type, resource_id, permission)
);
create index access_control_resource_idx on access_control (resource_type, resource_id);

-- Audit trail: kept when the user is deleted, so the user reference is nulled instead.
create table security_events (
  id         uuid primary key default gen_random_uuid(),
  user_id    uuid references users (id) on delete set null,
  event_type varchar(50) not null,
  ip_address inet,
  details    jsonb not null default '{}',
  created_at timestamptz not null default now()
);
create index security_events_user_id_idx on security_events (user_id);
create index security_events_created_at_idx on security_events (created_at);
create index security_events_type_idx on security_events (event_type, created_at);

create trigger users_updated_at before update on users
  for each row execute function set_updated_at();
create trigger providers_updated_at before update on providers
  for each row execute function set_updated_at();
create trigger api_keys_updated_at before update on api_keys
  for each row execute function set_updated_at();
create trigger provider_keys_updated_at before update on provider_keys
  for each row execute function set_updated_at();
create trigger conversations_updated_at before update on conversations
  for each row execute function set_updated_at();
create trigger assets_updated_at before update on assets
  for each row execute function set_updated_at();
create trigger oauth_accounts_updated_at before update on oauth_accounts
  for each row execute function set_updated_at();

-- A new message makes its conversation the most recent one.
create function touch_conversation() returns trigger
language plpgsql as $$
begin
  update conversations set updated_at = now() where id = new.conversation_id;
  return new;
end;
$$;
create trigger messages_touch_conversation after insert on messages
  for each row execute function touch_conversation();

insert into providers (id, display_name) values
  ('openai', 'OpenAI'),
  ('anthropic', 'Anthropic'),
  ('gemini', 'Google Gemini');
