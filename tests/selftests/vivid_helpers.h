/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Finding vivid's nodes, shared by the selftests that use vivid.
 */
#ifndef VIVID_HELPERS_H
#define VIVID_HELPERS_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/videodev2.h>

/*
 * Open the vivid node of instance @inst ("platform:vivid-00N") whose
 * device_caps has @cap. Returns the fd or -1.
 */
static inline int vivid_open(int inst, uint32_t cap)
{
	char path[64], bus[32];
	struct v4l2_capability c;
	int i, fd;

	snprintf(bus, sizeof(bus), "platform:vivid-%03d", inst);
	for (i = 0; i < 64; i++) {
		snprintf(path, sizeof(path), "/dev/video%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!ioctl(fd, VIDIOC_QUERYCAP, &c) && !strcmp((char *)c.bus_info, bus) &&
		    (c.device_caps & cap))
			return fd;
		close(fd);
	}
	return -1;
}

#endif /* VIVID_HELPERS_H */
