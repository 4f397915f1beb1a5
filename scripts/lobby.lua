-- lobby.lua - how a room fills and starts (docs/MODDING.md, "Lobby").
-- Every hook gets a fresh copy of the room: {id, phase, max_cars,
-- n_players, n_ready, players = {{user_id, username, kind, ready,
-- connected}, ...}}; changing it changes nothing.
return {
  name = "standard",
  description = "Anyone may join until the room is full; the race starts when everyone is ready.",
  min_players = 1,
  grace_s = 10, -- seconds a disconnected player has to take their car back

  -- May this player take a seat? true, or false and a reason for the client.
  join_attempt = function(_room, _player)
    return true
  end,

  -- Start when all players are ready: a countdown in seconds, or nil to
  -- keep waiting (the rules' own countdown_s follows in the race).
  should_start = function(room)
    if room.n_players > 0 and room.n_ready == room.n_players then
      return 0
    end
    return nil
  end,

  -- How many AI cars join the grid when the race starts.
  ai_fill = function(_room)
    return 0
  end,

  -- A player left a race for good, or their grace ran out (phase is the
  -- room's: "countdown" or "running"; before the race a leaver just loses
  -- the seat): "retire" the car, let the "ai" drive it, or "hold" it (it
  -- coasts until the race ends).
  on_leave = function(_room, _player, _phase)
    return "retire"
  end,
}
