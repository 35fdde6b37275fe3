/*
 * counters_scripts.c - the Lua scripts of the Redis counter store: the
 * check-and-add of one request (limits, blocks, cluster-wide alert keys,
 * the baseline), the merge of counts made during an outage, and reset.
 * They run inside Redis, atomically; counters_redis.c loads them (SCRIPT
 * LOAD) at every connection and calls them by SHA1 (EVALSHA).
 *
 * Keys (user names are bulk arguments, concatenated inside the script):
 *   rblkit:c:PERIOD:WINDOWSTART:USER  hash m (messages), r (recipients);
 *                                     expires 2 * PERIOD after its last
 *                                     change (the window and the next one,
 *                                     where it is the "previous" window)
 *   rblkit:a:CODE:KIND:PERIOD:USER    alert sent (SET NX, EX PERIOD): one
 *                                     alert per crossing for the cluster
 *   rblkit:b:USER                     "KIND:PERIOD" blocked until reset
 *   rblkit:bl:USER                    the baseline (outbound_baseline):
 *                                     hour and day start, count, EWMA mean
 *                                     and variance, last alerts, distinct
 *                                     domains and their EWMA; 30 days
 *   rblkit:d:LEN:START:USER           HyperLogLog of the recipient domains
 *                                     of the hour (LEN 3600) or day (86400)
 *                                     from START; expires a minute after
 *   rblkit:t:START:USER               the hour's top recipient domains
 *                                     (sorted set of at most 32)
 *
 * SECURITY: user names are script arguments (ARGV), concatenated into
 * key names inside Redis, never into the script text; numbers are the
 * daemon's own.
 */
#include "policy/counters_scripts.h"

/* The sliding-window estimate of a user's kind (0 messages, 1
 * recipients) over per at now: shared by CHECK and STATUS. */
#define LUA_EST \
	"local function key(per,ws) return 'rblkit:c:'..per..':'..ws..':'..u end\n" \
	"local function est(kind,per)\n" \
	" local ws=now-now%per local f=kind==0 and 'm' or 'r'\n" \
	" local c=tonumber(redis.call('HGET',key(per,ws),f) or 0)\n" \
	" local q=tonumber(redis.call('HGET',key(per,ws-per),f) or 0)\n" \
	" return c+math.floor(q*(per-(now-ws))/per)\n" \
	"end\n" \
	"local F={'hs','hn','hm','hv','ds','dn','dm','dv','ah','ad','xm','xv','ym','yv','hx','dx'}\n" \
	"local function top(hs)\n" \
	" local z=redis.call('ZREVRANGE','rblkit:t:'..hs..':'..u,0,7,'WITHSCORES') local t={}\n" \
	" for i=1,#z,2 do t[#t+1]=z[i]..':'..z[i+1] end return table.concat(t,' ')\n" \
	"end\n"

static const char script_check[] =
	"local u=ARGV[1] local now=tonumber(ARGV[2]) local rc=tonumber(ARGV[3])\n"
	"local add=ARGV[4]=='1' local reset=ARGV[5]=='1' local nl=tonumber(ARGV[6])\n"
	"local L={} local p=7\n"
	"for i=1,nl do L[i]={tonumber(ARGV[p]),tonumber(ARGV[p+1]),tonumber(ARGV[p+2])} p=p+3 end\n"
	"local np=tonumber(ARGV[p]) p=p+1\n"
	"local blon=ARGV[p+np]=='1' local bf=tonumber(ARGV[p+np+1])\n"
	"local bmin=tonumber(ARGV[p+np+2]) local bnew=tonumber(ARGV[p+np+3])\n"
	"local xf=tonumber(ARGV[p+np+4]) local xmin=tonumber(ARGV[p+np+5])\n"
	"local xnew=tonumber(ARGV[p+np+6]) local dom=string.lower(ARGV[p+np+7])\n"
	LUA_EST
	"if reset then\n"
	" local b=redis.call('GET','rblkit:b:'..u)\n"
	" if b then\n"
	"  local k,per=string.match(b,'^(%d+):(%d+)$')\n"
	"  if k then k=tonumber(k) per=tonumber(per) return {3,0,est(k,per),0,k,per,0,0,0,''} end\n"
	" end\n"
	"end\n"
	/* the baseline: hash rblkit:bl:USER, EWMA as in baseline.c; the
	 * distinct domains of the hour and day in HyperLogLogs
	 * rblkit:d:LEN:START:USER, the hour's top domains in a sorted set
	 * rblkit:t:START:USER of at most 32 */
	"local bk='rblkit:bl:'..u local B\n"
	"local function save()\n"
	" local a={} for j=1,16 do a[#a+1]=F[j] a[#a+1]=B[j] end\n"
	" redis.call('HSET',bk,unpack(a)) redis.call('EXPIRE',bk,2592000)\n"
	"end\n"
	"local function fin(r) if blon then save() end return r end\n"
	"local function ew(x,mi,vi,a) local d=x-B[mi] B[mi]=B[mi]+a*d B[vi]=(1-a)*(B[vi]+a*d*d) end\n"
	"local function roll(si,ni,mi,vi,xi,xm,xv,len,a,cap)\n"
	" local k=0\n"
	" while now-B[si]>=len do\n"
	"  if k<cap then ew(B[ni],mi,vi,a) if xf>0 then ew(B[xi],xm,xv,a) end end\n"
	"  k=k+1 B[ni]=0 B[xi]=0\n"
	"  if k<cap then B[si]=B[si]+len else B[si]=now-now%len end\n"
	" end\n"
	"end\n"
	"local function th(m,v,f,mn) local t=f*(m+3*math.sqrt(math.max(v,0)))\n"
	" if t<mn then return mn end if t>4e9 then return 4e9 end return math.floor(t) end\n"
	"local function pf(len,si,xi)\n"
	" local k='rblkit:d:'..len..':'..B[si]..':'..u\n"
	" redis.call('PFADD',k,dom) B[xi]=redis.call('PFCOUNT',k)\n"
	" redis.call('EXPIRE',k,B[si]+len-now+60)\n"
	"end\n"
	"if blon then\n"
	" local D={now-now%3600,0,bnew,bnew*bnew,now-now%86400,0,bnew*24,bnew*bnew*576,-1,-1,\n"
	"  xnew,xnew*xnew,xnew*24,xnew*xnew*576,0,0}\n"
	" local v=redis.call('HMGET',bk,unpack(F))\n"
	" B={} for j=1,16 do B[j]=v[1] and tonumber(v[j]) or D[j] end\n"
	" if now>=B[1] then roll(1,2,3,4,15,11,12,3600,1/168,672) end\n"
	" if now>=B[5] then roll(5,6,7,8,16,13,14,86400,1/14,28) end\n"
	" if dom~='' then local tk='rblkit:t:'..B[1]..':'..u\n"
	"  redis.call('ZINCRBY',tk,1,dom)\n"
	"  if redis.call('ZCARD',tk)>32 then redis.call('ZREMRANGEBYRANK',tk,0,0) end\n"
	"  redis.call('EXPIRE',tk,B[1]+3600-now+60)\n"
	"  if xf>0 then pf(3600,1,15) pf(86400,5,16) end\n"
	" end\n"
	" local th1,th2=th(B[3],B[4],bf,bmin),th(B[7],B[8],bf,bmin*8)\n"
	" local over,day,kd,cnt,t,m,sv=false,0,0,0,0,0,0\n"
	" if B[2]+1>th1 then over,cnt,t,m,sv=true,B[2]+1,th1,B[3],B[4]\n"
	" elseif B[6]+1>th2 then over,day,cnt,t,m,sv=true,1,B[6]+1,th2,B[7],B[8]\n"
	" elseif xf>0 then\n"
	"  local x1,x2=th(B[11],B[12],xf,xmin),th(B[13],B[14],xf,xmin*8)\n"
	"  if B[15]>x1 then over,kd,cnt,t,m,sv=true,1,B[15],x1,B[11],B[12]\n"
	"  elseif B[16]>x2 then over,day,kd,cnt,t,m,sv=true,1,1,B[16],x2,B[13],B[14] end\n"
	" end\n"
	" if over then\n"
	"  local al=0\n"
	"  if day==0 and B[9]~=B[1] then al=1 B[9]=B[1] end\n"
	"  if day==1 and B[10]~=B[5] then al=1 B[10]=B[5] end\n"
	"  return fin({4,day,cnt,al,kd,day==1 and 86400 or 3600,t,math.floor(m*1000),\n"
	"   math.floor(math.sqrt(math.max(sv,0))*1000),al==1 and top(B[1]) or ''})\n"
	" end\n"
	"end\n"
	"local function check(m,r)\n"
	" for i=1,nl do local l=L[i] local e=est(l[1],l[3])\n"
	"  if e+(l[1]==0 and m or r)>l[2] then return i,e end end\n"
	" return 0,0\n"
	"end\n"
	"local function first(code,l)\n"
	" if redis.call('SET','rblkit:a:'..code..':'..l[1]..':'..l[3]..':'..u,now,'NX','EX',l[3]) then return 1 end\n"
	" return 0\n"
	"end\n"
	"local i,e=check(1,rc>0 and 1 or 0)\n"
	"if i>0 then local l=L[i]\n"
	" if reset then redis.call('SET','rblkit:b:'..u,l[1]..':'..l[3]) end\n"
	" return fin({1,i-1,e,first(1,l),l[1],l[3],0,0,0,''})\n"
	"end\n"
	"i,e=check(1,rc)\n"
	"if i>0 then return fin({2,i-1,e,first(2,L[i]),L[i][1],L[i][3],0,0,0,''}) end\n"
	"if add then for j=0,np-1 do local per=tonumber(ARGV[p+j])\n"
	" local k=key(per,now-now%per)\n"
	" redis.call('HINCRBY',k,'m',1) redis.call('HINCRBY',k,'r',rc) redis.call('EXPIRE',k,2*per)\n"
	"end end\n"
	"if blon and add then B[2]=B[2]+1 B[6]=B[6]+1 end\n"
	"return fin({0,0,0,0,0,0,0,0,0,''})\n";

/* What status USER shows for the cluster: the estimates of the user's
 * limits, the block, the baseline's fields and the hour's top domains. */
static const char script_status[] =
	"local u=ARGV[1] local now=tonumber(ARGV[2]) local nl=tonumber(ARGV[3])\n"
	LUA_EST
	"local r={}\n"
	"for i=0,nl-1 do r[#r+1]=est(tonumber(ARGV[4+2*i]),tonumber(ARGV[5+2*i])) end\n"
	"r[#r+1]=redis.call('GET','rblkit:b:'..u) or ''\n"
	"local v=redis.call('HMGET','rblkit:bl:'..u,unpack(F))\n"
	"for j=1,16 do r[#r+1]=v[j] or '' end\n"
	"r[#r+1]=top(now-now%3600)\n"
	"return r\n";

static const char script_merge[] =
	"local u=ARGV[1] local now=tonumber(ARGV[2]) local n=tonumber(ARGV[3])\n"
	"for i=0,n-1 do local per=tonumber(ARGV[4+i*4]) local ws=tonumber(ARGV[5+i*4])\n"
	" local ttl=ws+2*per-now\n"
	" if ttl>0 then local k='rblkit:c:'..per..':'..ws..':'..u\n"
	"  redis.call('HINCRBY',k,'m',ARGV[6+i*4]) redis.call('HINCRBY',k,'r',ARGV[7+i*4])\n"
	"  redis.call('EXPIRE',k,ttl) end\n"
	"end\n"
	"return 0\n";

static const char script_reset[] =
	"local u=ARGV[1] local now=tonumber(ARGV[2]) local n=tonumber(ARGV[3])\n"
	"redis.call('DEL','rblkit:b:'..u)\n"
	"for i=0,n-1 do local per=tonumber(ARGV[4+i]) local ws=now-now%per\n"
	" redis.call('DEL','rblkit:c:'..per..':'..ws..':'..u,'rblkit:c:'..per..':'..(ws-per)..':'..u)\n"
	" for c=1,2 do for k=0,1 do redis.call('DEL','rblkit:a:'..c..':'..k..':'..per..':'..u) end end\n"
	"end\n"
	"return 0\n";

const char *const pcs_scripts[PCS_SC_N] = { script_check, script_merge, script_reset,
						 script_status };

