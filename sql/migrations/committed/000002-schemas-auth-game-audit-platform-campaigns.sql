--! Previous: sha1:577afcbfc184001a43f51807d9afcb6546672822
--! Hash: sha1:d6e482bbb8a480ba26567e6e7d661975464abacb
--! Message: schemas auth, game, audit, platform; campaigns

-- The Gaia schema, version 2: organised as the platform is (seed 004), in place.
--
--   auth      accounts and everything that proves who someone is: users, OAuth accounts,
--             sessions, access control, and the keys (the Gaia API keys and the users' own
--             LLM provider keys, both credentials of an account)
--   game      what players make and do: campaigns, their participants, and the conversation
--             and message history (a conversation may belong to a campaign)
--   audit     security events, appended and read, never changed
--   platform  the platform's own catalogue and outputs: providers and generated assets
--
-- Every table moves with its rows, indexes, constraints and triggers (ALTER TABLE … SET
-- SCHEMA keeps them all); nothing is copied, so nothing is lost.

create schema auth;
create schema game;
create schema audit;
create schema platform;

alter table public.users set schema auth;
alter table public.oauth_accounts set schema auth;
alter table public.sessions set schema auth;
alter table public.access_control set schema auth;
alter table public.api_keys set schema auth;
alter table public.provider_keys set schema auth;
alter table public.conversations set schema game;
alter table public.messages set schema game;
alter table public.security_events set schema audit;
alter table public.providers set schema platform;
alter table public.assets set schema platform;

-- The trigger functions move with what they serve; touch_conversation names its table in full,
-- so it works whatever a session's search_path.
alter function public.set_updated_at() set schema platform;
alter function public.touch_conversation() set schema game;
create or replace function game.touch_conversation() returns trigger
language plpgsql as $$
begin
  update game.conversations set updated_at = now() where id = new.conversation_id;
  return new;
end;
$$;

-- A campaign: its owner, settings, and whether it is being played.
create table game.campaigns (
  id          uuid primary key default gen_random_uuid(),
  owner_id    uuid not null references auth.users (id) on delete cascade,
  name        varchar(255) not null,
  description text,
  settings    jsonb not null default '{}',
  is_active   boolean not null default true,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
create index campaigns_owner_id_idx on game.campaigns (owner_id);
create index campaigns_active_idx on game.campaigns (updated_at desc) where is_active;
create trigger campaigns_updated_at before update on game.campaigns
  for each row execute function platform.set_updated_at();

-- Who plays in a campaign, and as what (created_at: when they joined). Deleting the campaign
-- or the user removes the seat.
create table game.campaign_participants (
  campaign_id uuid not null references game.campaigns (id) on delete cascade,
  user_id     uuid not null references auth.users (id) on delete cascade,
  role        varchar(20) not null default 'player' check (role in ('game_master', 'player', 'observer')),
  created_at  timestamptz not null default now(),
  primary key (campaign_id, user_id)
);
create index campaign_participants_user_id_idx on game.campaign_participants (user_id);

-- The conversation and message history of a campaign: a conversation may belong to one, and
-- goes with it.
alter table game.conversations add column campaign_id uuid references game.campaigns (id) on delete cascade;
create index conversations_campaign_idx on game.conversations (campaign_id, updated_at desc) where campaign_id is not null;
