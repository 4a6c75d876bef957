-- Word frequencies of a file: every word with its count, most frequent first (ties by word),
-- then per-length totals. Stands in for a scripting-language workload (tables, strings, sort).
local f = assert(io.open(arg[1], "rb"))
local text = f:read("a")
f:close()
local count, n = {}, 0
for w in text:gmatch("%a+") do
  w = w:lower()
  count[w] = (count[w] or 0) + 1
  n = n + 1
end
local words = {}
for w in pairs(count) do words[#words + 1] = w end
table.sort(words, function(a, b)
  if count[a] ~= count[b] then return count[a] > count[b] end
  return a < b
end)
for _, w in ipairs(words) do io.write(w, " ", count[w], "\n") end
local bylen = {}
for _, w in ipairs(words) do bylen[#w] = (bylen[#w] or 0) + count[w] end
for len = 1, 64 do if bylen[len] then io.write("len ", len, " ", bylen[len], "\n") end end
io.write("words ", n, " distinct ", #words, "\n")
