// The report channel's messages (protocol/report-steps.ts): what the helper encodes, the
// addon decodes, step id included.
#include <string>

#include "common/control_channel.h"
#include "tests/harness.h"

TEST(report_of_a_success_round_trips) {
  tsc::Report sent;
  sent.ok = true;
  sent.pid = 321;
  EXPECT_EQ(tsc::encode_report(sent), std::string("ok 321"));
  tsc::Report received;
  EXPECT_TRUE(tsc::decode_report(tsc::encode_report(sent), &received));
  EXPECT_TRUE(received.ok);
  EXPECT_EQ(received.pid, 321);
}

TEST(report_of_a_failure_carries_step_id_errno_and_detail) {
  tsc::Report sent;
  sent.pid = 99;
  sent.err = 2;
  sent.step_id = tsc::StepId::MountBindSource;
  sent.step = "mount /data (source /srv/my data)";
  EXPECT_EQ(tsc::encode_report(sent), std::string("error 99 2 5 mount /data (source /srv/my data)"));
  tsc::Report received;
  EXPECT_TRUE(tsc::decode_report(tsc::encode_report(sent), &received));
  EXPECT_TRUE(!received.ok);
  EXPECT_EQ(received.pid, 99);
  EXPECT_EQ(received.err, 2);
  EXPECT_TRUE(received.step_id == tsc::StepId::MountBindSource);
  EXPECT_EQ(received.step, sent.step);
}

TEST(report_that_is_not_one_is_refused) {
  tsc::Report received;
  EXPECT_TRUE(!tsc::decode_report("cloned", &received));
  EXPECT_TRUE(!tsc::decode_report("error 1 2", &received));
  EXPECT_TRUE(!tsc::decode_report("error 1 2 mount /x", &received));
}
