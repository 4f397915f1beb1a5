-- lobby.lua - how a room fills and starts (docs/MODDING.md, "Lobby"),
-- shaped after Nakama's match handler. init makes the room's state table:
-- every later hook gets that same table as its second argument and may
-- change it (it lives as long as the room). The other arguments are fresh
-- copies, so changing them changes nothing: room = {id, phase, max_cars,
-- n_players, n_ready, n_spectators, players = {{user_id, username, kind,
-- ready, connected, position}, ...}}.
return {
  name = "standard",
  description = "Anyone may join until the room is full; the race starts when everyone is ready.",
  min_players = 1,
  grace_s = 10, -- seconds a disconnected player has to take their seat back

  -- Once, when the room opens: the state (optionally followed by the loop's
  -- rate per second, 1..10, and a label shown in the lobby). This lobby has
  -- no loop, so it costs nothing between events.
  init = function(_room)
    return { seats_taken = 0 }
  end,

  -- May this player take a seat? true, or false and a reason for the client.
  join_attempt = function(_room, _state, _player)
    return true
  end,

  -- A player took a seat (a reconnect keeps the seat: no join).
  join = function(_room, state, _player)
    state.seats_taken = state.seats_taken + 1
  end,

  -- Start when all players are ready: a countdown in seconds, or nil to
  -- keep waiting (the rules' own countdown_s follows in the race).
  should_start = function(room, _state)
    if room.n_players > 0 and room.n_ready == room.n_players then
      return 0
    end
    return nil
  end,

  -- How many AI cars join the grid when the race starts.
  ai_fill = function(_room, _state)
    return 0
  end,

  -- A player gave up their seat: why is "left", "timeout" (their grace ran
  -- out after a disconnect) or "kicked". Before the race (phase "open") the
  -- seat is just freed; in a race ("countdown", "running") say what the car
  -- becomes: "retire" it, let the "ai" drive it, or "hold" it (it coasts
  -- until the race ends).
  leave = function(_room, _state, _player, _phase, _why)
    return "retire"
  end,
}
