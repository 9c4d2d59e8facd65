-- wrk script for MRS: authenticated requests with random rooms, days and slots.
-- Configured by environment variables (set by loadtest/bench.py):
--   MRS_WRK_MODE     reserve | reserve_meeting | room_day | rooms | page
--                    (reserve_meeting: the same booking with a title and two attendees,
--                    users of loadtest.harness's seed)
--   MRS_WRK_TOKENS   file with one access token per line (a random one per request)
--   MRS_WRK_ROOMS    "first,last" room ids
--   MRS_WRK_DAYS     file with one YYYY-MM-DD per line
--   MRS_WRK_PAGE     path for mode "page" (sent with the session cookie)
--   MRS_WRK_COOKIE   the session cookie's name (over HTTPS it is "__Host-mrs_session")
-- done() prints "MRS_STATUS <code> <count>" and "MRS_LATENCY <p50_us> <p99_us>" lines.

local mode = os.getenv("MRS_WRK_MODE") or "room_day"
local page = os.getenv("MRS_WRK_PAGE") or "/"
local cookie = os.getenv("MRS_WRK_COOKIE") or "mrs_session"
local tokens, days = {}, {}
for line in io.lines(os.getenv("MRS_WRK_TOKENS")) do tokens[#tokens + 1] = line end
for line in io.lines(os.getenv("MRS_WRK_DAYS")) do days[#days + 1] = line end
local first_room, last_room = string.match(os.getenv("MRS_WRK_ROOMS") or "1,50", "(%d+),(%d+)")
first_room, last_room = tonumber(first_room), tonumber(last_room)

local threads, thread_count = {}, 0
statuses = {}

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 100 + thread_id)
  statuses = {}
end

local function hhmm(minute)
  return string.format("%02d:%02d", math.floor(minute / 60), minute % 60)
end

function request()
  local token = tokens[math.random(#tokens)]
  local room = math.random(first_room, last_room)
  local day = days[math.random(#days)]
  if mode == "reserve" or mode == "reserve_meeting" then
    local start = 480 + 30 * math.random(0, 23)          -- 08:00 .. 19:30
    local stop = start + 30 * math.random(1, 2)           -- 30 or 60 minutes
    local body = string.format('{"date":"%s","start_time":"%s","end_time":"%s"',
      day, hhmm(start), hhmm(stop))
    if mode == "reserve_meeting" then
      body = body .. string.format(
        ',"title":"Planning meeting %d","attendees":["load%04d","load%04d"]',
        start, math.random(0, 49), math.random(50, 99))
    end
    body = body .. "}"
    return wrk.format("POST", "/api/rooms/" .. room .. "/reservations",
      {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
  elseif mode == "rooms" then
    return wrk.format("GET", "/api/rooms?date=" .. day, {["Authorization"] = "Bearer " .. token})
  elseif mode == "page" then
    return wrk.format("GET", (string.gsub(page, "{date}", day)), {["Cookie"] = cookie .. "=" .. token})
  end
  return wrk.format("GET", "/api/rooms/" .. room .. "/reservations?date=" .. day,
    {["Authorization"] = "Bearer " .. token})
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do total[code] = (total[code] or 0) + n end
  end
  for code, n in pairs(total) do io.write(string.format("MRS_STATUS %d %d\n", code, n)) end
  io.write(string.format("MRS_LATENCY %d %d\n", latency:percentile(50), latency:percentile(99)))
  io.write(string.format("MRS_ERRORS %d %d %d %d\n", summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout))
end
